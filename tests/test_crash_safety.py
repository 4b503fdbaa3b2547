"""Kill -9 during training, at every point of the save sequence: ``--resume`` then ends with exactly the requested
epochs (none trained twice: the optimizer's step count equals an uninterrupted run's) and loadable models, and
``--out`` is never corrupt.

`test_a_kill_at_any_save_point_resumes_exactly`: a `TrainingRun` (a tiny eager Keras model, so a resume is
cheap) runs once uninterrupted while `textmodels.fault_points.observe` copies the folder at every point of every
save (begin, temporary written, synced, renamed, folder synced; of ``last.keras``, ``best.keras``, ``state.json``
and the output model): each copy is what a SIGKILL at that point leaves on disk. Every copy's output model
loads, and every third copy is resumed. `test_a_real_kill_of_each_trainer_resumes_exactly`: each trainer
(``train-classifier``, ``train-lm``, ``captioner train``; tiny models) is killed for real
(``TEXTMODELS_KILL_AT``: SIGKILL from inside the subprocess) at a point of its first checkpoint, then resumed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from textmodels.fault_points import KILL_VARIABLE, POINTS, observe
from textmodels.saving import load_model, save_model
from textmodels.training import TrainingRun

pytestmark = [pytest.mark.all_backends, pytest.mark.slow]

EPOCHS = 3


def _train(folder: Path, resume: bool = False) -> None:
    """What every training command does: restore or build, fit with the run's callbacks, best epoch to out."""
    run = TrainingRun(folder / "model.run", resume=resume)
    model = run.restore([keras.Sequential], "a Sequential model")
    if model is None:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("adam", "mse", run_eagerly=True)
    rng = np.random.default_rng(0)
    x, x_val = rng.normal(size=(8, 3)), rng.normal(size=(4, 3))
    model.fit(x, x.sum(1), validation_data=(x_val, x_val.sum(1)), epochs=EPOCHS, batch_size=4, verbose=0,
              initial_epoch=run.initial_epoch, callbacks=run.callbacks())
    save_model(load_model(run.best_path, [keras.Sequential], "a Sequential model"), folder / "model.keras")


def _check_finished(folder: Path, steps: int) -> None:
    run = folder / "model.run"
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == EPOCHS and all(len(values) == EPOCHS for values in state["history"].values())
    assert _optimizer_steps(run / "last.keras") == steps  # no epoch trained twice, none skipped
    keras.saving.load_model(run / "best.keras", safe_mode=True)


def _optimizer_steps(checkpoint: Path) -> int:
    return int(keras.saving.load_model(checkpoint, safe_mode=True).optimizer.iterations.numpy())


def test_a_kill_at_any_save_point_resumes_exactly(tmp_path):
    observed = tmp_path / "observed"
    observed.mkdir()
    old = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    save_model(old, observed / "model.keras")  # an earlier good model at --out: it must survive every kill
    snapshots: list[tuple[str, str, Path]] = []

    def copy_the_disk(point: str, path: str) -> None:
        copy = tmp_path / f"kill{len(snapshots):02d}"
        shutil.copytree(observed, copy)
        snapshots.append((point, Path(path).name, copy))

    with observe(copy_the_disk):
        _train(observed)
    steps = _optimizer_steps(observed / "model.run" / "last.keras")
    assert {(point, name) for point, name, _ in snapshots} == {
        (point, name) for point in POINTS for name in ("last.keras", "best.keras", "state.json", "model.keras")}

    for _, _, copy in snapshots:
        keras.saving.load_model(copy / "model.keras", safe_mode=True)  # the old model or the new, never half
    for _, _, copy in snapshots[::3]:  # 3 and the 5 kinds of point are coprime: every kind of every file is hit
        _train(copy, resume=(copy / "model.run" / "last.keras").exists())
        _check_finished(copy, steps)


def _classifier_setup(folder: Path):
    from textmodels.classification import TextClassifier
    from textmodels.cli import main

    rows = ["good film", "bad film", "great fun", "awful mess", "nice story", "dull plot", "fine acting", "weak end"]
    (folder / "train.csv").write_text("text,label\n" + "".join(f"{t},{'pos' if i % 2 == 0 else 'neg'}\n"
                                                             for i, t in enumerate(rows)))
    (folder / "val.csv").write_text("text,label\ngood fun,pos\nbad mess,neg\n")
    argv = ["train-classifier", str(folder / "train.csv"), "--val", str(folder / "val.csv"), "--units", "4",
            "--embedding-dim", "4", "--batch-size", "4", "--patience", "0", "--epochs", str(EPOCHS)]
    return "textmodels.cli", main, argv, TextClassifier.load


def _language_model_setup(folder: Path):
    from textmodels.cli import main
    from textmodels.language_model import LanguageModel

    (folder / "train.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 3)
    (folder / "val.txt").write_text("the cat sat on the log\n")
    argv = ["train-lm", str(folder / "train.txt"), "--val", str(folder / "val.txt"), "--units", "4",
            "--layers", "1", "--batch-size", "2", "--num-steps", "4", "--epochs", str(EPOCHS)]
    return "textmodels.cli", main, argv, LanguageModel.load


def _captioner_setup(folder: Path):
    import captioner.model  # noqa: F401 (registers CaptionModel, so the checkpoints load)
    from captioner.api import Captioner
    from captioner.cli import main
    from captioner.data import make_synthetic

    captions = make_synthetic(folder / "shapes", num_images=20, image_size=16, seed=0)
    argv = ["train", str(captions), "--images", str(folder / "shapes"), "--image-size", "16", "--conv-filters", "4",
            "--feature-dim", "8", "--units", "8", "--embedding-dim", "4", "--min-count", "1", "--batch-size", "8",
            "--patience", "0", "--quiet", "--epochs", str(EPOCHS)]
    return "captioner.cli", main, argv, Captioner.load


# trainer: (setup, the point of its first checkpoint at which it is killed, counted from 1). Epoch 1 always
# improves, so its saves are last.keras (points 1-5), best.keras (6-10), state.json (11-15).
TRAINERS = {
    "train-classifier": (_classifier_setup, 4),  # last.keras renamed, nothing else written
    "train-lm": (_language_model_setup, 8),  # best.keras half copied
    "captioner train": (_captioner_setup, 12),  # state.json being written
}


def _paths(work: Path, argv: list[str]) -> list[str]:
    return [*argv, "--out", str(work / "model.keras"), "--run-dir", str(work / "model.run")]


@pytest.mark.parametrize("trainer", list(TRAINERS))
def test_a_real_kill_of_each_trainer_resumes_exactly(trainer, tmp_path):
    setup, kill_at = TRAINERS[trainer]
    module, main, argv, load = setup(tmp_path)
    env = dict(os.environ, **{KILL_VARIABLE: str(kill_at)})
    process = subprocess.run([sys.executable, "-m", module, *_paths(tmp_path, argv)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert process.returncode == -9, process.stderr[-2000:]
    run = tmp_path / "model.run"
    assert not (tmp_path / "model.keras").exists()
    steps_per_epoch = _optimizer_steps(run / "last.keras")  # epoch 1 was committed before every chosen point

    assert main(_paths(tmp_path, argv) + ["--resume"]) == 0
    _check_finished(tmp_path, EPOCHS * steps_per_epoch)
    load(tmp_path / "model.keras")
