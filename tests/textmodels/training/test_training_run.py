"""Checkpoint/resume, best-model tracking and the NaN guard of `TrainingRun`."""

import json
import sys
import types

import keras
import numpy as np
import pytest

from textmodels.cli import make_main
from textmodels.errors import DataError
from textmodels.training import TrainingDiverged, TrainingRun, make_optimizer


def regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], "float32")


def small_model(learning_rate=0.05):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(make_optimizer("sgd", learning_rate, clipnorm=None), "mse")
    return model


def test_resume_continues_from_the_last_epoch_with_the_same_weights(tmp_path):
    x, y = regression_data()
    run = TrainingRun(tmp_path)
    model = small_model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=run.callbacks(monitor="loss"))
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epoch"] == 3 and len(state["history"]["loss"]) == 3
    assert state["history"]["loss"][-1] < state["history"]["loss"][0]

    resumed = TrainingRun(tmp_path, resume=True)
    restored = resumed.restore()
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert resumed.initial_epoch == 3
    restored.fit(x, y, epochs=5, initial_epoch=resumed.initial_epoch, verbose=0,
                 callbacks=resumed.callbacks(monitor="loss"))
    assert json.loads((tmp_path / "state.json").read_text())["epoch"] == 5
    assert (tmp_path / "best.keras").is_file()


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        TrainingRun(tmp_path, resume=True)


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_truncated_state_json_is_rewritten_from_the_checkpoint_which_holds_the_state(tmp_path):
    x, y = regression_data()
    small_model().fit(x, y, epochs=2, verbose=0, callbacks=TrainingRun(tmp_path).callbacks(monitor="loss"))
    _truncate(tmp_path / "state.json")
    resumed = TrainingRun(tmp_path, resume=True)
    assert resumed.initial_epoch == 2
    assert json.loads((tmp_path / "state.json").read_text())["epoch"] == 2  # the readable copy, repaired


def test_a_damaged_state_is_named_with_what_is_wrong_with_it(tmp_path):
    from textmodels.saving import save_model
    from textmodels.training.training_run import CheckpointError

    x, y = regression_data()
    small_model().fit(x, y, epochs=1, verbose=0, callbacks=TrainingRun(tmp_path).callbacks(monitor="loss"))
    state = tmp_path / "state.json"
    # A checkpoint from before the state moved into last.keras: state.json is the only copy of the state.
    save_model(small_model(), tmp_path / "last.keras")
    _truncate(state)
    with pytest.raises(CheckpointError, match=f"{state} is damaged: it is truncated"):
        TrainingRun(tmp_path, resume=True)
    state.write_bytes(b"")
    with pytest.raises(CheckpointError, match=f"{state} is damaged: it is empty"):
        TrainingRun(tmp_path, resume=True)
    # No checkpoint at all, and a cut-off state.json: both are said.
    state.write_text('{"epoch": 1, "history": {"loss": [0.5')
    (tmp_path / "last.keras").unlink()
    with pytest.raises(FileNotFoundError, match=rf"\(expected last.keras\); {state} is there but damaged: it is trunc"):
        TrainingRun(tmp_path, resume=True)


def test_train_lm_resume_names_the_damaged_state_file(tmp_path, capsys):
    from textmodels.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\n" * 20)
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text('{"epoch": 3, "best": 2.6')
    code = main(["train-lm", str(corpus), "--out", str(tmp_path / "lm.keras"), "--run-dir", str(run), "--resume"])
    error = capsys.readouterr().err
    assert code == 2 and f"{run / 'state.json'} is there but damaged: it is truncated" in error, error


def test_nan_loss_stops_training_and_keeps_the_last_good_weights(tmp_path):
    x, y = regression_data()
    run = TrainingRun(tmp_path)
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=run.callbacks(monitor="loss"))
    good = model.get_weights()
    model.optimizer.learning_rate.assign(1e6)  # diverges within a few batches
    model.fit(x, y, epochs=4, initial_epoch=1, batch_size=8, verbose=0, callbacks=run.callbacks(monitor="loss"))
    assert all(np.isfinite(w).all() for w in model.get_weights())
    with pytest.raises(TrainingDiverged, match="last good checkpoint"):
        run.raise_if_diverged()
    kept = keras.saving.load_model(tmp_path / "last.keras")
    for saved, expected in zip(kept.get_weights(), good):
        np.testing.assert_array_equal(saved, expected)


def test_optimizer_validation_and_global_clipping():
    with pytest.raises(ValueError, match="adam, sgd, rmsprop"):
        make_optimizer("adagrad")
    assert make_optimizer("adam").global_clipnorm == 5.0
    assert make_optimizer("adam", clipnorm=None).global_clipnorm is None


def test_cli_prints_bad_input_as_one_line_and_keeps_bugs_loud(monkeypatch, capsys):
    module = types.ModuleType("fake_commands")

    def register(subparsers):
        def fail(args):
            if args.value == "bug":
                raise ValueError("an internal mistake, not the user's")
            raise DataError(f"bad input {args.value!r}")

        parser = subparsers.add_parser("explode")
        parser.add_argument("value")
        parser.set_defaults(handler=fail)

    module.register = register
    monkeypatch.setitem(sys.modules, "fake_commands", module)
    main = make_main("tool", "1.0", "test tool", ["fake_commands", "missing_commands_module"])
    assert main(["explode", "x"]) == 2
    assert capsys.readouterr().err.strip() == "error: bad input 'x'"
    with pytest.raises(ValueError, match="internal mistake"):
        main(["explode", "bug"])
    assert main([]) == 2
