"""Executes every teaching notebook in notebooks/ and checks that it runs cleanly and verifies something.

Each notebook runs in a fresh "python3" kernel (the ipykernel of the interpreter running pytest) with a
wall-clock budget for the whole notebook, not just per cell. A notebook passes when no cell raises; its own
``assert`` statements (gradient checks, padding invariance, ...) are what make that meaningful, so every
notebook must contain at least one ordering assertion such as ``assert max_diff < 1e-6``.
"""

from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra: pip install -e .[dev]")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra: pip install -e .[dev]")

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# Each notebook takes < 25 s on a quiet machine; the margin absorbs a busy 2-core CI runner and kernel start-up.
NOTEBOOK_TIMEOUT_S = 120
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 4, f"expected the teaching notebooks in {NOTEBOOK_DIR}, found {NOTEBOOKS}"


def test_readme_lists_every_notebook():
    readme = (NOTEBOOK_DIR.parent / "README.md").read_text(encoding="utf-8")
    missing = [path.name for path in NOTEBOOKS if path.name not in readme]
    assert not missing, f"README.md does not mention {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = _read(path)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have stored outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_asserts_a_numeric_bound(path):
    numeric_asserts = []
    for cell in _code_cells(_read(path)):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Assert) and any(
                isinstance(compare, ast.Compare) and any(isinstance(op, ORDERING) for op in compare.ops)
                for compare in ast.walk(node.test)
            ):
                numeric_asserts.append(ast.unparse(node.test))
    assert numeric_asserts, f"{path.name} has no assertion bounding a number (e.g. `assert max_diff < 1e-6`)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_executes_without_errors(path, monkeypatch):
    # The kernel inherits this environment: make the packages importable even without an editable install.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = _read(path)
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_S
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        # Each cell may use whatever is left of the notebook's budget, which makes the budget per notebook.
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.monotonic()
    try:
        client.execute()
    except nbclient.exceptions.CellTimeoutError:
        pytest.fail(f"{path.name} did not finish within {NOTEBOOK_TIMEOUT_S} s")
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} raised in a cell:\n{ANSI_ESCAPE.sub('', str(error))}")
    elapsed = time.monotonic() - start

    errors = [
        output
        for cell in _code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
    assert all(cell.execution_count is not None for cell in _code_cells(notebook)), f"{path.name}: cells skipped"
    assert elapsed < NOTEBOOK_TIMEOUT_S, f"{path.name} took {elapsed:.0f} s"
