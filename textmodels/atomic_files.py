"""Files written atomically: a temporary file beside the target, synced to disk, renamed over the target, the
folder synced; a crash at any moment leaves the old file or the new one, never half of one. Every writer of a
model, checkpoint, run state, cache index or caption file in both packages goes through here (models through
`textmodels.saving.save_model`). Nothing here imports Keras, so light modules can use it.

Example:
    >>> import os, tempfile
    >>> path = write_text_atomically(os.path.join(tempfile.mkdtemp(), "state.json"), '{"epoch": 1}')
    >>> path.read_text(), [name for name in os.listdir(path.parent)]
    ('{"epoch": 1}', ['state.json'])
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from textmodels import fault_points

# Temporary files start with this (hidden, and recognisable as ours by `remove_leftover_temporaries`).
TEMPORARY_PREFIX = ".~"


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Writes ``text`` (UTF-8) to ``path`` atomically: never half a file.

    Example:
        >>> import os, tempfile
        >>> path = write_text_atomically(os.path.join(tempfile.mkdtemp(), "state.json"), "{}")
        >>> path.read_text()
        '{}'
    """
    return replace_atomically(Path(path), lambda temporary: temporary.write_text(text, encoding="utf-8"))


def copy_atomically(source: str | Path, path: str | Path) -> Path:
    """Copies the file ``source`` to ``path`` atomically: never half a file.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> _ = write_text_atomically(os.path.join(folder, "a.json"), "{}")
        >>> copy_atomically(os.path.join(folder, "a.json"), os.path.join(folder, "b.json")).read_text()
        '{}'
    """
    return replace_atomically(Path(path), lambda temporary: shutil.copyfile(source, temporary))


def replace_atomically(path: str | Path, write) -> Path:
    """Calls ``write(temporary)`` for a temporary file beside ``path`` (same suffix), syncs it to disk and
    renames it over ``path``, then syncs the folder; on failure the temporary file is removed and ``path`` is
    untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keras insists on the .keras suffix, so the temporary file keeps it; the hidden prefix and the process id
    # keep concurrent writers apart.
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{path.stem}.{os.getpid()}.tmp{path.suffix}")
    fault_points.reached("begin", path)
    try:
        write(temporary)
        fault_points.reached("written", path)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        fault_points.reached("synced", path)
        os.replace(temporary, path)
        fault_points.reached("renamed", path)
    finally:
        temporary.unlink(missing_ok=True)
    sync_folder(path.parent)  # the rename itself survives a crash only once the folder is synced
    fault_points.reached("folder synced", path)
    return path


def sync_folder(folder: str | Path) -> None:
    """Flushes ``folder``'s own entries (names created, renamed or removed in it) to disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sync_tree(folder: str | Path) -> None:
    """Flushes every file and folder under ``folder`` to disk, deepest first: before a folder written elsewhere
    (a SavedModel) is renamed into place, so the rename never exposes files still only in memory."""
    for root, _, files in os.walk(folder, topdown=False):
        for name in files:
            with open(os.path.join(root, name), "rb") as written:
                os.fsync(written.fileno())
        sync_folder(root)


def remove_leftover_temporaries(folder: str | Path) -> list[Path]:
    """Deletes the temporary files that saves killed half-way left in ``folder`` (never read by anything);
    returns them.

    Example:
        >>> import tempfile
        >>> remove_leftover_temporaries(tempfile.mkdtemp())
        []
    """
    leftovers = sorted(Path(folder).glob(f"{TEMPORARY_PREFIX}*.tmp*"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers
