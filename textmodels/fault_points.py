"""The moments of every atomic save at which a crash could strike, named so that tests can crash there.

`textmodels.atomic_files.replace_atomically` calls `reached` at each step of a save: ``begin`` (nothing written yet),
``written`` (the temporary file is complete), ``synced`` (it is on disk), ``renamed`` (it replaced the target)
and ``folder synced``. A training loop that updates the weights outside Keras' ``fit`` (self-critical fine-tuning)
also calls it with `TRAINING_STEP` after every update, so that a test can kill a run in the middle of an epoch.
Two ways to stop there:

- ``TEXTMODELS_KILL_AT=N`` in the environment makes the process send itself SIGKILL at the Nth point it
  reaches (counted from 1 over the whole process): a real ``kill -9`` at a chosen moment of the save sequence.
- `observe` calls a function at every point, in-process: a test can copy the folder there, which is exactly
  what a kill at that point would leave on disk (every byte before it was synced).

Example:
    >>> seen = []
    >>> with observe(lambda point, path: seen.append((point, path))):
    ...     reached("begin", "m.keras")
    >>> seen
    [('begin', 'm.keras')]
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POINTS = ("begin", "written", "synced", "renamed", "folder synced")
TRAINING_STEP = "training step"
KILL_VARIABLE = "TEXTMODELS_KILL_AT"

_observers: list[Callable[[str, str], None]] = []
_count = 0


def reached(point: str, path: str | Path) -> None:
    """Called by the savers at ``point`` (one of `POINTS`) of writing ``path``, and by training loops with
    `TRAINING_STEP` and their run folder."""
    global _count
    _count += 1
    for observer in list(_observers):
        observer(point, str(path))
    kill_at = os.environ.get(KILL_VARIABLE)
    if kill_at and _count == int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def observe(observer: Callable[[str, str], None]) -> Iterator[None]:
    """Calls ``observer(point, path)`` at every point reached inside the ``with`` block."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)
