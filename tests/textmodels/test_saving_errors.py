"""Bad model files, tried as a new user would (a truncated archive, a folder, a link loop, another kind of model):
each refused naming the file and what it holds, by the Python API and both commands alike (the cases and their
runner: `bad_input`)."""

from __future__ import annotations

import pytest
from bad_input import (
    captioner_cli,
    cases,
    dangling_link,
    exit_with,
    folder_named,
    run_case,
    symlink_loop,
    textmodels_cli,
    truncated_copy,
)

from textmodels.saving import ModelFileError, save_model

pytestmark = pytest.mark.all_backends


def load_classifier(make_path):
    def act(w):
        from textmodels.classification import TextClassifier

        return TextClassifier.load(make_path(w))

    return act


CASES = [
    (
        "truncated model",
        load_classifier(lambda w: truncated_copy(w, "classifier", "cut.keras")),
        (ModelFileError, r"cut\.keras: the \.keras archive is truncated or damaged"),
    ),
    (
        "folder as model",
        textmodels_cli("classify", lambda w: folder_named(w, "dir.keras"), "a"),
        exit_with(2, r"dir\.keras: is a folder, not a \.keras model file"),
    ),
    (
        "symbolic-link loop as model",
        textmodels_cli("classify", lambda w: symlink_loop(w, "loop.keras"), "a"),
        exit_with(2, r"loop\.keras: cannot open the model file \(Too many levels of symbolic links\)"),
    ),
    (
        "dangling link as model",
        captioner_cli("caption", lambda w: dangling_link(w, "gone.keras"), lambda w: w.photo),
        exit_with(2, r"gone\.keras: a symbolic link to a missing file"),
    ),
    (
        "text file as model",
        textmodels_cli("classify", lambda w: w.file("notes.keras", "not a model"), "a"),
        exit_with(2, r"notes\.keras: not a \.keras model archive"),
    ),
    (
        "classifier given to captioner",
        captioner_cli("caption", lambda w: w.classifier, lambda w: w.photo),
        exit_with(2, r"classifier\.keras: holds a TextRNN model, not a captioner \(CaptionModel\)"),
    ),
    (
        "language model given to classify",
        textmodels_cli("classify", lambda w: w.language_model, "a"),
        exit_with(2, r"lm\.keras: holds a LanguageModel model, not a text classifier"),
    ),
    (
        "captioner given to perplexity",
        textmodels_cli("perplexity", lambda w: w.captioner, lambda w: w.file("p.txt", "a b\n")),
        exit_with(2, r"captioner\.keras: holds a CaptionModel model, not a language model"),
    ),
    (
        "missing model",
        textmodels_cli("classify", "no-such.keras", "a"),
        exit_with(2, r"no-such\.keras: no such model file"),
    ),
    (
        "save to .h5",
        lambda w: save_model(None, w.folder / "m.h5"),
        (ModelFileError, r"m\.h5: the file name must end in \.keras"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
