"""Bad options of the textmodels commands, tried as a new user would: argparse refuses each, naming the option and
the value (the cases and their runner: `bad_input`); options may come anywhere among the arguments."""

from __future__ import annotations

import pytest
from bad_input import cases, exit_with, run_case, textmodels_cli

pytestmark = pytest.mark.all_backends


def train_classifier(*options):
    return textmodels_cli(
        "train-classifier", lambda w: w.file("t.csv", "text,label\ngood,pos\nbad,neg\n"), "--out",
        lambda w: w.folder / "o.keras", *options
    )


def train_lm(*options):
    return textmodels_cli(
        "train-lm", lambda w: w.file("c.txt", "a b c\n"), "--out", lambda w: w.folder / "l.keras", *options
    )


CASES = [
    (
        "classifier --epochs 0",
        train_classifier("--epochs", "0"),
        exit_with(2, r"--epochs: must be a positive integer, got 0"),
    ),
    (
        "classifier --epochs -1",
        train_classifier("--epochs", "-1"),
        exit_with(2, r"--epochs: must be a positive integer, got -1"),
    ),
    (
        "classifier --learning-rate -1",
        train_classifier("--learning-rate", "-1"),
        exit_with(2, r"--learning-rate: must be a number > 0, got -1"),
    ),
    (
        "classifier --learning-rate 0",
        train_classifier("--learning-rate", "0"),
        exit_with(2, r"--learning-rate: must be a number > 0, got 0"),
    ),
    (
        "classifier --learning-rate nan",
        train_classifier("--learning-rate", "nan"),
        exit_with(2, r"--learning-rate: must be a number > 0, got nan"),
    ),
    (
        "classifier --dropout 1.5",
        train_classifier("--dropout", "1.5"),
        exit_with(2, r"--dropout: must be in \[0, 1\), got 1.5"),
    ),
    (
        "classifier --batch-size 0",
        train_classifier("--batch-size", "0"),
        exit_with(2, r"--batch-size: must be a positive integer, got 0"),
    ),
    (
        "classifier --max-length 0",
        train_classifier("--max-length", "0"),
        exit_with(2, r"--max-length: must be a positive integer, got 0"),
    ),
    (
        "classifier --units 0",
        train_classifier("--units", "0"),
        exit_with(2, r"--units: must be a positive integer, got 0"),
    ),
    (
        "classifier --clipnorm -1",
        train_classifier("--clipnorm", "-1"),
        exit_with(2, r"--clipnorm: must be a number >= 0, got -1"),
    ),
    (
        "classifier --patience -1",
        train_classifier("--patience", "-1"),
        exit_with(2, r"--patience: must be an integer >= 0, got -1"),
    ),
    (
        "classifier --val-fraction 1",
        train_classifier("--val-fraction", "1"),
        exit_with(2, r"--val-fraction: must be in \[0, 1\), got 1"),
    ),
    (
        "classifier --threshold 1.5",
        train_classifier("--threshold", "1.5"),
        exit_with(2, r"--threshold: must be in \(0, 1\), got 1.5"),
    ),
    (
        "classifier --epochs abc",
        train_classifier("--epochs", "abc"),
        exit_with(2, r"--epochs: invalid int value: 'abc'"),
    ),
    ("lm --num-steps 0", train_lm("--num-steps", "0"), exit_with(2, r"--num-steps: must be a positive integer, got 0")),
    ("lm --lr-decay 0", train_lm("--lr-decay", "0"), exit_with(2, r"--lr-decay: must be a number > 0, got 0")),
    (
        "lm --init-scale -0.1",
        train_lm("--init-scale", "-0.1"),
        exit_with(2, r"--init-scale: must be a number > 0, got -0.1"),
    ),
    (
        "lm --learning-rate -0.5",
        train_lm("--learning-rate", "-0.5"),
        exit_with(2, r"--learning-rate: must be a number > 0"),
    ),
    (
        "generate --top-p 1.5",
        textmodels_cli("generate", "m.keras", "--top-p", "1.5"),
        exit_with(2, r"--top-p: must be in \(0, 1\], got 1.5"),
    ),
    (
        "generate --temperature -1",
        textmodels_cli("generate", "m.keras", "--temperature", "-1"),
        exit_with(2, r"--temperature: must be a number >= 0, got -1"),
    ),
    (
        "generate --max-tokens 0",
        textmodels_cli("generate", "m.keras", "--max-tokens", "0"),
        exit_with(2, r"--max-tokens: must be a positive integer, got 0"),
    ),
    (
        "generate --top-k 0",
        textmodels_cli("generate", "m.keras", "--top-k", "0"),
        exit_with(2, r"--top-k: must be a positive integer, got 0"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)


def test_options_may_come_anywhere(world, capsys):
    from textmodels.cli import main

    assert main(["classify", str(world.classifier), "--json", "a fine film", "a dull one"]) == 0
    assert capsys.readouterr().out.count('"text"') == 2
