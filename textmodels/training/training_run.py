"""Checkpoint every epoch, resume an interrupted run, stop early, and never lose work to a NaN loss."""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras

from textmodels.errors import TextmodelsError
from textmodels.saving import save_model, write_text_atomically


class TrainingDiverged(TextmodelsError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


class CheckpointError(TextmodelsError, ValueError):
    """A run folder whose state cannot be resumed (a corrupt ``state.json``)."""


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
        self.state = self._read_state() if resume else {"epoch": 0, "best": None, "history": {}}
        self.diverged_at: str | None = None

    def _read_state(self) -> dict:
        if not self.state_path.is_file() or not self.last_path.is_file():
            raise FileNotFoundError(
                f"Cannot resume: no checkpoint in {self.directory} (expected last.keras and state.json)."
            )
        try:
            return json.loads(self.state_path.read_text())
        except json.JSONDecodeError as error:
            raise CheckpointError(f"Cannot resume: {self.state_path} is corrupt ({error}).") from None

    @property
    def initial_epoch(self) -> int:
        """Epochs already completed: pass as ``fit(initial_epoch=...)``."""
        return int(self.state["epoch"])

    def restore(self):
        """The model saved after the last completed epoch (optimizer state included) when resuming, else None."""
        if not self.resume:
            return None
        return keras.saving.load_model(self.last_path, safe_mode=True)

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
        save_model(self.model, self.run.last_path)
        value = logs.get(self.monitor)
        if value is not None and math.isfinite(value):
            best = state["best"]
            if best is None or (value > best if self.higher_is_better else value < best):
                state["best"] = value
                state["best_epoch"] = epoch + 1
                save_model(self.model, self.run.best_path)
        write_text_atomically(self.run.state_path, json.dumps(state, indent=2))


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
