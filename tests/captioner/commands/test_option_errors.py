"""Bad options of the captioner commands, tried as a new user would: argparse refuses each, naming the option and
the value (the cases and their runner: `bad_input`)."""

from __future__ import annotations

import pytest
from bad_input import captioner_cli, cases, exit_with, run_case

pytestmark = pytest.mark.all_backends

CAPTIONS = '{"images": [{"id": 1, "file_name": "photo.png"}], "annotations": [{"image_id": 1, "caption": "a"}]}'


def captioner_train(*options):
    return captioner_cli(
        "train",
        lambda w: w.file("c.json", CAPTIONS),
        "--images",
        lambda w: w.folder,
        "--out",
        lambda w: w.folder / "c.keras",
        *options,
    )


CASES = [
    (
        "captioner train --epochs 0",
        captioner_train("--epochs", "0"),
        exit_with(2, r"--epochs: must be a positive integer, got 0"),
    ),
    (
        "captioner train --batch-size 0",
        captioner_train("--batch-size", "0"),
        exit_with(2, r"--batch-size: must be a positive integer, got 0"),
    ),
    (
        "captioner train --learning-rate -1",
        captioner_train("--learning-rate", "-1"),
        exit_with(2, r"--learning-rate: must be a number > 0, got -1"),
    ),
    (
        "captioner train --lr-reduce-factor 1.5",
        captioner_train("--lr-reduce-factor", "1.5"),
        exit_with(2, r"--lr-reduce-factor: must be in \(0, 1\), got 1.5"),
    ),
    (
        "captioner train --conv-filters 0,4",
        captioner_train("--conv-filters", "0,4"),
        exit_with(2, r"--conv-filters: must be comma-separated positive integers, got '0,4'"),
    ),
    (
        "captioner train --image-size 0",
        captioner_train("--image-size", "0"),
        exit_with(2, r"--image-size: must be a positive integer, got 0"),
    ),
    (
        "captioner train --dropout 1.5",
        captioner_train("--dropout", "1.5"),
        exit_with(2, r"--dropout: must be in \[0, 1\), got 1.5"),
    ),
    (
        "captioner caption --beam-size 0",
        captioner_cli("caption", "m.keras", "p.jpg", "--beam-size", "0"),
        exit_with(2, r"--beam-size: must be a positive integer, got 0"),
    ),
    (
        "captioner serve --port -1",
        captioner_cli("serve", "m.keras", "--port", "-1"),
        exit_with(2, r"--port: must be an integer >= 0, got -1"),
    ),
    (
        "captioner serve --max-batch 0",
        captioner_cli("serve", "m.keras", "--max-batch", "0"),
        exit_with(2, r"--max-batch: must be a positive integer, got 0"),
    ),
    (
        "captioner evaluate --length-penalty -1",
        captioner_cli("evaluate", "m.keras", "c.json", "--images", ".", "--length-penalty", "-1"),
        exit_with(2, r"--length-penalty: must be a number >= 0, got -1"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
