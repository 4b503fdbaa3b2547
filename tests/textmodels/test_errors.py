"""Bad arguments to the textmodels Python API (`TextClassifier`, `SequenceTagger`, `train_language_model`,
`make_optimizer`): each refused with the `textmodels.errors` rule, naming the argument (the cases and their
runner: `bad_input`)."""

from __future__ import annotations

import pytest
from bad_input import cases, run_case

from textmodels.classification import TextClassifier
from textmodels.errors import ConfigurationError
from textmodels.tagging import SequenceTagger
from textmodels.training import make_optimizer

pytestmark = pytest.mark.all_backends


def train_lm_with(**options):
    def act(w):
        from textmodels.language_model.training import train_language_model

        settings = dict(units=4, layers=1, batch_size=1, num_steps=3, epochs=1, verbose=0) | options
        return train_language_model("a b c a b c\n", w.folder / "never.run", **settings)

    return act


CASES = [
    (
        "TextClassifier(units=0)",
        lambda w: TextClassifier(units=0),
        (ConfigurationError, r"units must be a positive integer, got 0"),
    ),
    (
        "TextClassifier(dropout=1.5)",
        lambda w: TextClassifier(dropout=1.5),
        (ConfigurationError, r"dropout must be in \[0, 1\), got 1\.5"),
    ),
    (
        "TextClassifier(filter_widths=(3, 0))",
        lambda w: TextClassifier("textcnn", filter_widths=(3, 0)),
        (ConfigurationError, r"filter_widths\[1\] must be a positive integer, got 0"),
    ),
    (
        "TextClassifier(threshold=1.0)",
        lambda w: TextClassifier(threshold=1.0),
        (ConfigurationError, r"threshold must be in \(0, 1\), got 1\.0"),
    ),
    (
        "SequenceTagger(learning_rate=-1)",
        lambda w: SequenceTagger(learning_rate=-1),
        (ConfigurationError, r"learning_rate must be a number > 0, got -1"),
    ),
    (
        "SequenceTagger(suffix_length=0)",
        lambda w: SequenceTagger(suffix_length=0),
        (ConfigurationError, r"suffix_length must be a positive integer, got 0"),
    ),
    (
        "train_language_model(learning_rate=-1)",
        train_lm_with(learning_rate=-1.0),
        (ConfigurationError, r"learning_rate must be a number > 0, got -1.0"),
    ),
    (
        "train_language_model(epochs=0)",
        train_lm_with(epochs=0),
        (ConfigurationError, r"epochs must be a positive integer, got 0"),
    ),
    (
        "train_language_model(dropout=1.5)",
        train_lm_with(dropout=1.5),
        (ConfigurationError, r"dropout must be in \[0, 1\), got 1.5"),
    ),
    (
        "make_optimizer(learning_rate=-0.1)",
        lambda w: make_optimizer("adam", -0.1),
        (ConfigurationError, r"learning_rate must be a number > 0, got -0.1"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
