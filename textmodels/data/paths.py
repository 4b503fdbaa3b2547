"""Where the local copies of public datasets live.

Nothing is downloaded at run time on the machines that build this project, so tests, benchmarks and
examples read datasets from a folder: ``$RNN_DATA_DIR`` when set, else ``../shared/data`` beside the
repository root.

Example:
    >>> from textmodels.data.paths import shared_data_dir
    >>> shared_data_dir() is None or shared_data_dir().is_dir()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "RNN_DATA_DIR"
_DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_data_dir() -> Path | None:
    """The local dataset folder, or None when neither ``$RNN_DATA_DIR`` nor ``../shared/data`` exists."""
    candidate = Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else _DEFAULT
    return candidate if candidate.is_dir() else None
