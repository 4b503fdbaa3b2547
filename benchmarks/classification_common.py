"""Helpers shared by the classification, tagging and TextRNN-throughput benchmarks: machine description,
result files, and a results table.

Example:
    >>> print(format_table([{"model": "a", "accuracy": 0.5}], ["model", "accuracy"]))
    model  accuracy
    a      0.5
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict:
    """CPU, load, library versions and accelerators, so numbers are read against the machine they came from."""
    import keras
    import tensorflow as tf

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    cpu_model = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        cpu_model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                          if line.startswith("model name")), None)
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "load_average_at_start": load,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_results(name: str, payload: dict) -> Path:
    """Writes ``benchmarks/results/<name>.json`` atomically (partial results survive an interrupted run)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(payload, indent=2, default=float))
    os.replace(temporary, path)
    return path


def format_table(rows: list[dict], columns: list[str]) -> str:
    """A plain aligned text table of ``rows`` (dicts) restricted to ``columns``."""
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]
    return "\n".join(lines)
