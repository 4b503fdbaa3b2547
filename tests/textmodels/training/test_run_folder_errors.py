"""Run folders that cannot be resumed (another kind of model, no checkpoint, a truncated checkpoint, a corrupt
state): ``--resume`` refuses each naming the file (the cases and their runner: `bad_input`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input import World, cases, exit_with, run_case, textmodels_cli, truncated_copy

pytestmark = pytest.mark.all_backends


def run_folder_with(w: World, name: str, last: Path | None = None, state: str | None = None) -> Path:
    run = w.folder / name
    run.mkdir(exist_ok=True)
    if last is not None:
        (run / "last.keras").write_bytes(last.read_bytes())
    if state is not None:
        (run / "state.json").write_text(state)
    return run


def resume_classifier(make_run):
    data = "text,label\ngood,pos\nbad,neg\nfine,pos\nawful,neg\n"
    return lambda w: textmodels_cli(
        "train-classifier",
        w.file("resume.csv", data),
        "--out",
        w.folder / "r.keras",
        "--run-dir",
        make_run(w),
        "--resume",
        "--epochs",
        "2",
    )(w)


CASES = [
    (
        "--resume on a language model's run",
        resume_classifier(lambda w: run_folder_with(w, "lm.run", w.language_model.with_suffix(".run") / "last.keras")),
        exit_with(
            2,
            r"Cannot resume: .*last\.keras: holds a LanguageModel model, not a text classifier "
            r"\(TextRNN, TextCNN, TextBag\)",
        ),
    ),
    (
        "--resume without a checkpoint",
        resume_classifier(lambda w: run_folder_with(w, "empty.run")),
        exit_with(2, r"Cannot resume: no checkpoint in .*empty\.run"),
    ),
    (
        "--resume on a truncated last.keras",
        resume_classifier(lambda w: run_folder_with(w, "cut.run", truncated_copy(w, "classifier", "cut2.keras"))),
        exit_with(2, r"Cannot resume: .*cut\.run/last\.keras: the \.keras archive is truncated"),
    ),
    (
        "--resume with a corrupt state.json",
        resume_classifier(lambda w: run_folder_with(w, "bad.run", w.classifier, "{epoch")),
        exit_with(2, r"Cannot resume: .*bad\.run/state\.json is damaged"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
