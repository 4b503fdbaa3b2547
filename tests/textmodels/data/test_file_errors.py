"""Bad tables and corpora (an unclosed quote, a missing column, an empty file, bytes that are not UTF-8, a folder):
each refused naming the file and the line (the cases and their runner: `bad_input`)."""

from __future__ import annotations

import pytest
from bad_input import cases, exit_with, folder_named, run_case, table, textmodels_cli

pytestmark = pytest.mark.all_backends

CASES = [
    (
        "CSV with an unclosed quote",
        textmodels_cli(
            "train-classifier",
            table("q.csv", 'text,label\ngood,pos\n"bad film,neg\nok,pos\nfine,neg\n'),
            "--out",
            lambda w: w.folder / "q.keras",
        ),
        exit_with(2, r"q\.csv, line 3: a quote opens a field here and never closes"),
    ),
    (
        "CSV without its label column",
        textmodels_cli(
            "train-classifier",
            table("nolabel.csv", "text,score\ngood,1\nbad,0\n"),
            "--out",
            lambda w: w.folder / "n.keras",
        ),
        exit_with(2, r"nolabel\.csv.*label"),
    ),
    (
        "empty CSV",
        textmodels_cli("train-classifier", table("empty.csv", ""), "--out", lambda w: w.folder / "e.keras"),
        exit_with(2, r"empty\.csv"),
    ),
    (
        "CSV that is not UTF-8",
        textmodels_cli(
            "train-classifier",
            lambda w: w.file("latin.csv", b"text,label\ncaf\xe9,pos\nbad,neg\n"),
            "--out",
            lambda w: w.folder / "l.keras",
        ),
        exit_with(2, r"latin\.csv, line 2: byte offset 14 is not valid utf-8"),
    ),
    (
        "empty corpus",
        textmodels_cli("train-lm", table("blank.txt", "\n\n"), "--out", lambda w: w.folder / "b.keras"),
        exit_with(2, r"blank\.txt: the corpus is empty"),
    ),
    (
        "folder as corpus",
        textmodels_cli("perplexity", lambda w: w.language_model, lambda w: folder_named(w, "texts")),
        exit_with(2, r"texts: is a folder, not a file"),
    ),
    (
        "missing corpus",
        textmodels_cli("perplexity", lambda w: w.language_model, "absent.txt"),
        exit_with(2, r"absent\.txt: file not found"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
