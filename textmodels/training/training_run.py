"""Checkpoint every epoch, resume an interrupted run, stop early, and never lose work to a NaN loss or a crash.

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
from pathlib import Path

import keras

from textmodels.atomic_files import copy_atomically, remove_leftover_temporaries, write_text_atomically
from textmodels.errors import TextmodelsError
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
