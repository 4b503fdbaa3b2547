"""Executes the teaching notebooks and stores them with their outputs, so that a reader sees the plots unrun.

    .venv/bin/python notebooks/execute_notebooks.py                      # every notebook, in place
    .venv/bin/python notebooks/execute_notebooks.py 06_text_classification.ipynb

Each notebook runs top to bottom in a fresh ``python3`` kernel with notebooks/ as the working directory and the
repository on ``PYTHONPATH`` — exactly as ``tests/test_notebooks.py`` runs them, which reuses `execute` and
`output_kinds` from here. A notebook that raises is left as it was. No timing metadata is recorded, so
re-executing an unchanged notebook changes only its numbers and pictures.

The budget: a notebook must run top to bottom in under two minutes on two CPU cores. What is measured is the
kernel's CPU time (user + system, all threads), not the wall time: on two cores of its own a notebook finishes
in at most its CPU time, while on a machine shared with other jobs the wall time says more about the other jobs
than about the notebook. The wall clock only guards against a hung kernel.

The one code cell of each notebook tagged ``readme_picture`` supplies its picture in the table of docs/notebooks.md:
its plot is written to ``docs/notebook_<name>.png`` whenever the notebook is executed, so the docs never show a
plot the notebook no longer makes. Prints, for each notebook, its CPU and wall time, its stored size and its
largest picture.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

import nbformat

NOTEBOOK_DIR = Path(__file__).resolve().parent
REPO_ROOT = NOTEBOOK_DIR.parent
PICTURE_DIR = REPO_ROOT / "docs"
PICTURE_TAG = "readme_picture"
# A notebook must run top to bottom within this many seconds of kernel CPU time (see the module notes).
CPU_BUDGET_S = 120
# A kernel that has not finished after this many wall-clock seconds is taken to hang.
HANG_TIMEOUT_S = 600
# Run after the notebook's own cells (and removed again): prints the kernel's CPU seconds so far.
CPU_PROBE = (
    "import json as _json, resource as _resource\n"
    "_usage = _resource.getrusage(_resource.RUSAGE_SELF)\n"
    "print(_json.dumps({'cpu_seconds': _usage.ru_utime + _usage.ru_stime}))"
)
# Streams that count as a cell's visible output; stderr (library warnings, which differ by machine) does not.
COUNTED_STREAMS = ("stdout",)


class NotebookFailed(RuntimeError):
    """A notebook raised in a cell or its kernel hung; the message names the notebook and the cell."""


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def execute(path: Path, timeout_s: int = HANG_TIMEOUT_S):
    """``(executed notebook, CPU seconds, wall seconds)`` for the notebook at ``path`` (the file is not changed).

    The CPU seconds are the kernel's, start-up included. ``timeout_s`` of wall time covers the whole notebook, not
    each cell. Raises `NotebookFailed` naming the notebook when a cell raises or the time runs out.
    """
    import nbclient

    notebook = read(path)
    notebook.cells.append(nbformat.v4.new_code_cell(CPU_PROBE))
    environment = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
                   "TF_CPP_MIN_LOG_LEVEL": "2"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)  # the kernel inherits this process's environment
    deadline = time.monotonic() + timeout_s
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        record_timing=False,
        # Output written straight to the process's file descriptors (TensorFlow's C++ start-up logging) goes to
        # this process's stderr instead of into the stored notebook.
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    try:
        client.execute()
    except nbclient.exceptions.CellTimeoutError as error:
        raise NotebookFailed(f"{path.name} did not finish within {timeout_s} s") from error
    except nbclient.exceptions.CellExecutionError as error:
        raise NotebookFailed(f"{path.name} raised in a cell:\n{error}") from error
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    wall_seconds = time.monotonic() - started
    probe = notebook.cells.pop()
    cpu_seconds = json.loads("".join(output.get("text", "") for output in probe.outputs))["cpu_seconds"]
    return notebook, cpu_seconds, wall_seconds


def output_kinds(notebook) -> list[tuple[str, ...]]:
    """For each code cell, the sorted kinds of what it shows: ``stdout``, ``error`` and the MIME types of its
    rich outputs other than ``text/plain`` (``image/png`` for a plot).

    Two runs of the same code give the same kinds even when the numbers and pixels differ, so comparing the
    stored kinds with a fresh run's tells whether the stored outputs still belong to the code.
    """
    kinds = []
    for cell in code_cells(notebook):
        shown = set()
        for output in cell.outputs:
            if output.output_type == "stream":
                if output.name in COUNTED_STREAMS:
                    shown.add(output.name)
            elif output.output_type == "error":
                shown.add("error")
            else:
                shown.update(mime for mime in output.get("data", {}) if mime != "text/plain")
        kinds.append(tuple(sorted(shown)))
    return kinds


def largest_image_bytes(notebook) -> int:
    """The size in bytes of the largest PNG stored in ``notebook`` (0 when it has none)."""
    sizes = [
        len(base64.b64decode(output["data"]["image/png"]))
        for cell in code_cells(notebook)
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    return max(sizes, default=0)


def readme_picture(notebook) -> bytes | None:
    """The PNG of the code cell tagged ``readme_picture`` (its first plot), or None when no cell is tagged."""
    for cell in code_cells(notebook):
        if PICTURE_TAG in cell.metadata.get("tags", []):
            for output in cell.outputs:
                if "image/png" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/png"])
            raise NotebookFailed(f"the cell tagged {PICTURE_TAG!r} made no plot")
    return None


def picture_path(notebook_path: Path) -> Path:
    return PICTURE_DIR / f"notebook_{notebook_path.stem}.png"


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replaces ``path`` with ``content``: a temporary file in the same folder, flushed to disk, then renamed."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook file names in notebooks/ (default: all of them)")
    parser.add_argument("--timeout", type=int, default=HANG_TIMEOUT_S,
                        help="wall-clock seconds after which a notebook's kernel counts as hung (default %(default)s)")
    args = parser.parse_args(argv)
    paths = [NOTEBOOK_DIR / name for name in args.names] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        print(f"error: no such notebook in {NOTEBOOK_DIR}: {', '.join(missing)}", file=sys.stderr)
        return 2
    failed = 0
    print(f"{'notebook':<42}{'CPU s':>7}{'wall s':>8}{'stored KB':>11}{'largest PNG KB':>16}")
    for path in paths:
        try:
            notebook, cpu_seconds, wall_seconds = execute(path, args.timeout)
        except NotebookFailed as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if cpu_seconds >= CPU_BUDGET_S:
            print(f"error: {path.name} needed {cpu_seconds:.0f} s of CPU time; the budget is {CPU_BUDGET_S} s",
                  file=sys.stderr)
            failed += 1
            continue
        try:
            picture = readme_picture(notebook)
        except NotebookFailed as error:
            print(f"error: {path.name}: {error}", file=sys.stderr)
            failed += 1
            continue
        write_atomically(path, nbformat.writes(notebook) + "\n")
        if picture is not None:
            PICTURE_DIR.mkdir(exist_ok=True)
            write_atomically(picture_path(path), picture)
        print(f"{path.name:<42}{cpu_seconds:>7.1f}{wall_seconds:>8.1f}{path.stat().st_size / 1024:>11.0f}"
              f"{largest_image_bytes(notebook) / 1024:>16.0f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
