"""The teaching notebooks in notebooks/: stored with their outputs, and still producing them.

Every notebook is committed executed (plots included), so that a reader sees it without running anything. The
suite executes each one again in a fresh "python3" kernel (as ``notebooks/execute_notebooks.py`` does) and fails
when a cell raises, when the notebook needs more than its budget of two minutes of kernel CPU time (what it
takes on two cores of its own, however busy the machine running the tests), or when the stored outputs no longer
belong to the code: per code cell, the kinds of output (printed text, a plot, ...) must be the same as a fresh
run's. A notebook's own ``assert`` statements (gradient checks, padding invariance, ...) are what make running it
meaningful, so every notebook must contain at least one ordering assertion such as ``assert max_diff < 1e-6``.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import re
from pathlib import Path

import pytest

from textmodels.data.paths import shared_data_dir

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra: pip install -e .[dev]")
pytest.importorskip("nbclient", reason="nbclient is in the dev extra: pip install -e .[dev]")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra: pip install -e .[dev]")
pytest.importorskip("matplotlib", reason="matplotlib is in the dev extra: pip install -e .[dev]")
# IPython comes with ipykernel; it turns a cell's magics (%matplotlib inline) into plain Python.
TransformerManager = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("execute_notebooks", NOTEBOOK_DIR / "execute_notebooks.py")
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)

# Stored outputs stay small: a notebook is read in a browser, and every re-execution is a commit.
MAX_NOTEBOOK_BYTES = 300_000
MAX_IMAGE_BYTES = 120_000
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks
RERUN = "re-run `.venv/bin/python notebooks/execute_notebooks.py {name}` and commit the result"


def _python(source: str) -> str:
    """A cell's source as plain Python (``%matplotlib inline`` and other magics become function calls)."""
    return TransformerManager().transform_cell(source)


def _needs_shared_data(notebook) -> bool:
    return any("shared_data_dir(" in cell.source for cell in execute_notebooks.code_cells(notebook))


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 7, f"expected the seven teaching notebooks in {NOTEBOOK_DIR}, found {NOTEBOOKS}"


def test_docs_list_every_notebook_with_its_picture():
    page_path = REPO_ROOT / "docs" / "notebooks.md"
    page = page_path.read_text(encoding="utf-8")
    missing = [path.name for path in NOTEBOOKS if path.name not in page]
    assert not missing, f"docs/notebooks.md does not mention {missing}"
    pictures = [execute_notebooks.picture_path(path).relative_to(page_path.parent).as_posix() for path in NOTEBOOKS]
    unshown = [picture for picture in pictures if f'src="{picture}"' not in page]
    assert not unshown, f"docs/notebooks.md does not show {unshown}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_readme_picture_is_the_notebooks_own_plot(path):
    picture = execute_notebooks.readme_picture(execute_notebooks.read(path))
    assert picture is not None, f"{path.name}: tag one plotting cell {execute_notebooks.PICTURE_TAG!r}"
    stored = execute_notebooks.picture_path(path)
    assert stored.is_file() and stored.read_bytes() == picture, (
        f"{stored.relative_to(REPO_ROOT)} is not the plot stored in {path.name}; " + RERUN.format(name=path.name)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_executed_top_to_bottom(path):
    notebook = execute_notebooks.read(path)
    nbformat.validate(notebook)
    cells = execute_notebooks.code_cells(notebook)
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} are not one run from the top; " + RERUN.format(name=path.name)
    )
    errors = [index for index, kinds in enumerate(execute_notebooks.output_kinds(notebook)) if "error" in kinds]
    assert not errors, f"{path.name}: code cells {errors} are stored with an error"
    images = [
        len(base64.b64decode(output["data"]["image/png"]))
        for cell in cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, f"{path.name} shows no plot"
    assert max(images) <= MAX_IMAGE_BYTES, f"{path.name}: a {max(images)} byte picture; lower its size or dpi"
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{path.name} is {path.stat().st_size} bytes stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_asserts_a_numeric_bound(path):
    numeric_asserts = []
    for cell in execute_notebooks.code_cells(execute_notebooks.read(path)):
        for node in ast.walk(ast.parse(_python(cell.source))):
            if isinstance(node, ast.Assert) and any(
                isinstance(compare, ast.Compare) and any(isinstance(op, ORDERING) for op in compare.ops)
                for compare in ast.walk(node.test)
            ):
                numeric_asserts.append(ast.unparse(node.test))
    assert numeric_asserts, f"{path.name} has no assertion bounding a number (e.g. `assert max_diff < 1e-6`)"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_executes_and_matches_its_stored_outputs(path):
    stored = execute_notebooks.read(path)
    if _needs_shared_data(stored) and shared_data_dir() is None:
        pytest.skip(f"{path.name} reads the local datasets (set RNN_DATA_DIR or place them at ../shared/data)")
    try:
        fresh, cpu_seconds, wall_seconds = execute_notebooks.execute(path)
    except execute_notebooks.NotebookFailed as error:
        pytest.fail(ANSI_ESCAPE.sub("", str(error)))
    assert cpu_seconds < execute_notebooks.CPU_BUDGET_S, (
        f"{path.name} needed {cpu_seconds:.0f} s of CPU time ({wall_seconds:.0f} s wall); "
        f"the budget is {execute_notebooks.CPU_BUDGET_S} s"
    )
    assert all(cell.execution_count is not None for cell in execute_notebooks.code_cells(fresh)), "cells skipped"

    stored_kinds, fresh_kinds = execute_notebooks.output_kinds(stored), execute_notebooks.output_kinds(fresh)
    differing = [
        f"code cell {index}: stored {list(before)}, now {list(after)}"
        for index, (before, after) in enumerate(zip(stored_kinds, fresh_kinds))
        if before != after
    ]
    assert not differing, (
        f"{path.name}: the stored outputs no longer match what the code shows:\n  " + "\n  ".join(differing)
        + "\n" + RERUN.format(name=path.name)
    )
