"""Checkpoint every epoch, resume an interrupted run, stop early, and never lose work to a NaN loss or a crash.

`train_in_run` is the one training path of every model of both packages (classifier, tagger, language model,
captioner), from Python and from the command line alike: it opens the run folder, restores the interrupted
model (optimizer state and epoch included) or has a new one built, trains it with the run's callbacks, and copies
the best epoch's checkpoint to ``out``, atomically (a copy of the file: nothing is loaded or rebuilt).

One epoch's checkpoint is one atomic commit: ``last.keras`` is written to a temporary file that also holds the
run's state (epoch, history, best value; member ``run_state.json``), synced, and renamed into place. Before that
rename the folder is the previous epoch's, after it the new one's; a kill at any moment leaves one or the other.
``best.keras`` (a copy of ``last.keras`` when the epoch improved) and ``state.json`` (a readable copy of the
state) follow, each by rename; resuming trusts the state inside ``last.keras`` and re-copies ``best.keras`` when
the kill came between the two. So ``--resume`` ends with exactly the requested epochs, none trained twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras

from textmodels.atomic_files import copy_atomically, remove_leftover_temporaries, write_text_atomically
from textmodels.errors import ConfigurationError, TextmodelsError
from textmodels.saving import ModelFileError, load_model, read_archive_text, save_model

STATE_MEMBER = "run_state.json"  # the state inside each checkpoint archive


class TrainingDiverged(TextmodelsError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


class CheckpointError(TextmodelsError, ValueError):
    """A run folder that cannot be resumed: a damaged checkpoint or state, or another kind of model."""


def _json_problem(data: bytes) -> str | None:
    """What is wrong with ``data`` as a JSON document (a truncated file said as such), or None when it parses."""
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        return f"it is not UTF-8 text ({error.reason} at byte {error.start})"
    except json.JSONDecodeError as error:
        if not data.strip():
            return f"it is empty ({len(data)} bytes)"
        if error.pos >= len(error.doc.rstrip()) or error.msg.startswith("Unterminated string"):
            return f"it is truncated (its {len(data)} bytes end before the JSON does)"
        return f"it is not valid JSON ({error})"
    return None


class TrainingRun:
    """The on-disk state of one training run: ``last.keras``, ``best.keras`` and ``state.json`` in a folder.

    Args:
        directory: where checkpoints live (created when missing).
        resume: continue from ``last.keras`` instead of starting over.

    Example:
        >>> import tempfile, numpy as np, keras
        >>> run = TrainingRun(tempfile.mkdtemp())
        >>> model = run.restore() or keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0,
        ...                     initial_epoch=run.initial_epoch, callbacks=run.callbacks(monitor="loss"))
        >>> run.raise_if_diverged()
        >>> resumed = TrainingRun(run.directory, resume=True)
        >>> resumed.restore() is not None, resumed.initial_epoch
        (True, 2)
    """

    LAST, BEST = "last.keras", "best.keras"

    def __init__(self, directory: str | Path, resume: bool = False):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.resume = resume
        self.last_path = self.directory / self.LAST
        self.best_path = self.directory / self.BEST
        self.state_path = self.directory / "state.json"
        remove_leftover_temporaries(self.directory)  # halves of saves a kill interrupted: never part of the state
        self.state = self._read_state() if resume else {"epoch": 0, "best": None, "history": {}}
        self.diverged_at: str | None = None

    def _read_state(self) -> dict:
        if not self.last_path.exists() and not self.last_path.is_symlink():
            message = f"Cannot resume: no checkpoint in {self.directory} (expected last.keras)"
            if self.state_path.is_file():
                # state.json alone cannot resume a run (the weights are in last.keras), but a damaged one is
                # the likelier culprit to report than a checkpoint that was never written.
                problem = _json_problem(self.state_path.read_bytes())
                message += (f"; {self.state_path} is there but damaged: {problem}" if problem else
                            f"; {self.state_path} is there, but the weights it goes with are not")
            raise FileNotFoundError(message + ".")
        try:
            text = read_archive_text(self.last_path, STATE_MEMBER)
        except ModelFileError as error:
            raise CheckpointError(f"Cannot resume: {error}.") from None
        source = self.last_path
        if text is None:  # a run folder written before the state moved into the checkpoint
            if not self.state_path.is_file():
                raise FileNotFoundError(f"Cannot resume: no state.json in {self.directory}.")
            data, source = self.state_path.read_bytes(), self.state_path
        else:
            data = text.encode("utf-8")
        problem = _json_problem(data)
        if problem:
            raise CheckpointError(f"Cannot resume: {source} is damaged: {problem}.")
        text = data.decode("utf-8")
        state = json.loads(text)
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
            raise CheckpointError(f"Cannot resume: the state in {source} names no completed epoch.")
        state.setdefault("history", {})
        state.setdefault("best", None)
        self._repair_best(state)
        if source == self.last_path and (not self.state_path.is_file() or self.state_path.read_bytes() != data):
            write_text_atomically(self.state_path, text)  # the readable copy, behind (or damaged) after a kill
        return state

    def _repair_best(self, state: dict) -> None:
        """A kill after ``last.keras`` was committed but before ``best.keras`` was copied leaves the best epoch
        only in ``last.keras``: copy it now."""
        if state.get("best_epoch") != state["epoch"]:
            return
        try:
            best_text = read_archive_text(self.best_path, STATE_MEMBER) if self.best_path.is_file() else None
        except ModelFileError:
            best_text = None
        if best_text is None or json.loads(best_text).get("epoch") != state["epoch"]:
            copy_atomically(self.last_path, self.best_path)

    @property
    def initial_epoch(self) -> int:
        """Epochs already completed: pass as ``fit(initial_epoch=...)``."""
        return int(self.state["epoch"])

    def restore(self, expected: list[type] | None = None, what: str = "the model this command trains"):
        """The model saved after the last completed epoch (optimizer state included) when resuming, else None.
        With ``expected`` (the model classes the caller trains), a checkpoint of another kind is refused with
        `CheckpointError` naming the kind it holds and ``what`` was needed."""
        if not self.resume:
            return None
        if expected is None:
            return keras.saving.load_model(self.last_path, safe_mode=True)
        try:
            return load_model(self.last_path, expected, what)
        except ModelFileError as error:
            raise CheckpointError(f"Cannot resume: {error}.") from None

    def callbacks(self, monitor: str = "val_loss", patience: int | None = None, mode: str = "auto") -> list:
        """Checkpointing, best-model tracking, optional early stopping and the NaN guard, in that order."""
        guard = _NaNGuard(self)
        callbacks = [guard, _EpochCheckpoint(self, monitor, mode)]
        if patience is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, mode=mode, restore_best_weights=True)
            )
        return callbacks

    def copy_best(self, out: str | Path) -> Path:
        """Copies the best epoch's checkpoint (the last one when no epoch had a finite monitored value) to
        ``out``, atomically; returns the checkpoint copied. The copy is the checkpoint as it is: the model that
        `textmodels.saving.load_model` and every model's ``load`` read, with its optimizer state."""
        source = self.best_path if self.best_path.is_file() else self.last_path
        if not source.is_file():
            raise FileNotFoundError(f"Training finished without a checkpoint in {self.directory}.")
        copy_atomically(source, out)
        return source

    def raise_if_diverged(self) -> None:
        """Raises `TrainingDiverged` when the loss went NaN/inf during ``fit``."""
        if self.diverged_at:
            kept = self.last_path if self.last_path.is_file() else None
            raise TrainingDiverged(
                f"Training stopped: the loss became {self.diverged_at}. "
                + (f"The last good checkpoint is {kept} (resume with --resume, e.g. with a lower learning rate)."
                   if kept else "No epoch had completed, so there is no checkpoint; lower the learning rate.")
            )



class _EpochCheckpoint(keras.callbacks.Callback):
    def __init__(self, run: TrainingRun, monitor: str, mode: str):
        super().__init__()
        self.run = run
        self.monitor = monitor
        self.higher_is_better = mode == "max" or (mode == "auto" and ("acc" in monitor or "f1" in monitor))

    def on_epoch_end(self, epoch, logs=None):
        if self.run.diverged_at:
            return
        logs = {key: float(value) for key, value in (logs or {}).items()}
        state = self.run.state
        for key, value in logs.items():
            state["history"].setdefault(key, []).append(value)
        state["epoch"] = epoch + 1
        value = logs.get(self.monitor)
        improved = False
        if value is not None and math.isfinite(value):
            best = state["best"]
            if best is None or (value > best if self.higher_is_better else value < best):
                state["best"] = value
                state["best_epoch"] = epoch + 1
                improved = True
        text = json.dumps(state, indent=2)
        save_model(self.model, self.run.last_path, extras={STATE_MEMBER: text})  # the commit (see the module)
        if improved:
            copy_atomically(self.run.last_path, self.run.best_path)
        write_text_atomically(self.run.state_path, text)


class _NaNGuard(keras.callbacks.Callback):
    def __init__(self, run: TrainingRun):
        super().__init__()
        self.run = run
        self.good_weights = None

    def on_epoch_begin(self, epoch, logs=None):
        self.good_weights = self.model.get_weights()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.run.diverged_at = f"{float(loss)} at batch {batch + 1}"
            self.model.stop_training = True
            if self.good_weights is not None:
                self.model.set_weights(self.good_weights)


@dataclass
class TrainedRun:
    """What `train_in_run` returns.

    Attributes:
        model: what ``prepare`` returned, trained (the last epoch's weights, or the best ones when early stopping
            ended the run).
        history: this call's Keras history (``{}`` when the run had already reached ``epochs``); the whole run's,
            resumed epochs included, is ``run.state["history"]``.
        run: the `TrainingRun`.
        resumed_after: epochs completed before this call (0 for a new run).
        out: where the best epoch was copied (None without ``out``, and on workers other than the chief).
        source: the checkpoint copied to ``out``.
    """

    model: object
    history: dict
    run: TrainingRun
    resumed_after: int
    out: Path | None = None
    source: Path | None = None


def run_directory_for(out: str | Path) -> Path:
    """The run folder of a model written to ``out`` when none is named: ``out`` with ``.keras`` replaced by
    ``.run``; `ConfigurationError` for a name that does not end in ``.keras``.

    Example:
        >>> run_directory_for("models/sst2.keras").as_posix()
        'models/sst2.run'
    """
    out = Path(out)
    if out.suffix != ".keras":
        raise ConfigurationError(f"--out {out}: the model file name must end in .keras")
    return out.with_suffix(".run")


def train_in_run(
    run_dir: str | Path | None,
    prepare: Callable,
    fit: Callable,
    *,
    model_classes: Sequence[type],
    what: str,
    epochs: int,
    out: str | Path | None = None,
    resume: bool = False,
    monitor: str = "val_loss",
    mode: str = "auto",
    patience: int | None = None,
    distribution=None,
) -> TrainedRun:
    """Trains a model in the run folder ``run_dir`` (None: beside ``out``, `run_directory_for`) and copies its
    best epoch to ``out``: the training path of every model of the project.

    1. Opens the `TrainingRun` (``resume=True`` continues it, and fails now when there is nothing to resume);
       under a ``distribution`` (a `textmodels.training.distribution.Distribution` or its name) the workers other
       than the chief keep their run folder in a private temporary folder.
    2. ``prepare(restored)`` returns the model to train: ``restored`` is the checkpointed model of an interrupted
       run (one of ``model_classes``, optimizer state included; another kind is refused naming ``what`` was
       expected), else None and ``prepare`` builds a new one.
    3. Unless the run has already reached ``epochs``, ``fit(model, callbacks, run)`` trains it from epoch
       ``run.initial_epoch`` to ``epochs`` with ``callbacks`` (a checkpoint every epoch, best-epoch tracking on
       ``monitor`` (``mode``: ``"min"``, ``"max"``, or ``"auto"`` from its name, as Keras' callbacks take it),
       early stopping after ``patience`` epochs without improvement unless None, the NaN guard) and
       returns the Keras ``History``; a NaN or infinite loss then raises `TrainingDiverged`.
    4. The chief copies the best epoch's checkpoint to ``out`` (`TrainingRun.copy_best`).

    Example:
        >>> import os, tempfile, numpy as np
        >>> def prepare(restored):
        ...     if restored is not None:
        ...         return restored
        ...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        ...     model.compile("sgd", "mse")
        ...     return model
        >>> def fit(model, callbacks, run):
        ...     return model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, initial_epoch=run.initial_epoch,
        ...                      callbacks=callbacks, verbose=0)
        >>> out = os.path.join(tempfile.mkdtemp(), "dense.keras")
        >>> trained = train_in_run(None, prepare, fit, model_classes=[keras.Sequential], what="a dense model",
        ...                        epochs=3, out=out, monitor="loss")
        >>> trained.run.directory.name, len(trained.history["loss"]), trained.source.name
        ('dense.run', 3, 'best.keras')
        >>> open(out, "rb").read() == open(trained.source, "rb").read()
        True
    """
    from textmodels.training.distribution import as_distribution

    distribution = as_distribution(distribution)
    if out is not None:
        default = run_directory_for(out)
        run_dir = default if run_dir is None else run_dir
    elif run_dir is None:
        raise ConfigurationError("train_in_run needs a run folder (run_dir) or a model file (out) to put one beside.")
    run = TrainingRun(distribution.run_directory(run_dir, resume), resume=resume)
    resumed_after = run.initial_epoch
    with distribution.scope():
        restored = run.restore(list(model_classes), what)
    model = prepare(restored)
    history = {}
    if run.initial_epoch < epochs:
        history = fit(model, run.callbacks(monitor=monitor, patience=patience, mode=mode), run).history
        run.raise_if_diverged()
    trained = TrainedRun(model, history, run, resumed_after)
    if out is not None and distribution.is_chief:
        trained.source = run.copy_best(out)
        trained.out = Path(out)
    return trained
