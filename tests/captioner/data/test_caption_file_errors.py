"""Bad caption files (not JSON, missing): ``captioner train`` refuses each naming the file (the cases and their
runner: `bad_input`)."""

from __future__ import annotations

import pytest
from bad_input import captioner_cli, cases, exit_with, run_case, table

pytestmark = pytest.mark.all_backends

CASES = [
    (
        "caption JSON that is not JSON",
        captioner_cli(
            "train",
            table("broken.json", "{not json"),
            "--images",
            lambda w: w.folder,
            "--out",
            lambda w: w.folder / "x.keras",
        ),
        exit_with(2, r"broken\.json"),
    ),
    (
        "missing caption file",
        captioner_cli("train", "absent.json", "--images", ".", "--out", lambda w: w.folder / "x.keras"),
        exit_with(2, r"absent\.json' does not exist"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
