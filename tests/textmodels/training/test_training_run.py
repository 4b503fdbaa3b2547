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
