"""What the language-model benchmarks share: a per-epoch JSON recorder and a description of the machine.

A long run writes its results after every epoch, so a run stopped by its time budget (or killed) still leaves
its numbers.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import keras


def machine_description() -> str:
    """Processor, cores (and how many this run may use), the load average when it started.

    Other jobs and a `taskset` pin both slow a run down, so both belong beside its timings.
    """
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores ({usable} usable by this run), "
            f"load average at start {load}")


def write_report(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))


class EpochRecorder(keras.callbacks.Callback):
    """Appends one row per epoch to ``report["epochs"]`` and rewrites ``path``.

    Args:
        fields: report column -> the `fit` log it copies (e.g. ``{"valid_nats": "val_loss"}``).
        record_learning_rate: also record the optimizer's learning rate (for decaying schedules).
    """

    def __init__(self, report: dict, path: Path, fields: dict[str, str], record_learning_rate: bool = False):
        super().__init__()
        self.report, self.path, self.fields = report, path, fields
        self.record_learning_rate = record_learning_rate
        self.started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1}
        if self.record_learning_rate:
            row["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row.update({column: float(logs.get(log, float("nan"))) for column, log in self.fields.items()})
        row["wall_seconds_so_far"] = round(time.monotonic() - self.started, 1)
        self.report["epochs"].append(row)
        write_report(self.report, self.path)
