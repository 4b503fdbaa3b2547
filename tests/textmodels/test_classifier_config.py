"""The classifier's defaults live in one place: TextClassifier's signature, its fit() and the train-classifier
options all take the very objects of textmodels.classifier_config.DEFAULTS."""

import argparse
import dataclasses
import inspect

from textmodels.classification import TextClassifier
from textmodels.classification.classifier_network import encoder_shape
from textmodels.classifier_config import DEFAULTS
from textmodels.commands import classifier as classifier_command

FIT_SETTINGS = ("epochs", "patience", "validation_fraction")
# The encoder's shape: None in Python and on the command line (DEFAULTS' value, or the language model's).
SHAPE_SETTINGS = ("level", "embedding_dim", "units", "cell", "layers", "bidirectional")
CLI_NAMES = {"max_vocabulary": "max_vocab", "validation_fraction": "val_fraction"}
# Settings of the Python API that the command line leaves at their defaults.
PYTHON_ONLY = {"lowercase", "k", "attention_units", "filter_widths", "recurrent_dropout"}


def train_parser():
    parser = argparse.ArgumentParser()
    classifier_command.register(parser.add_subparsers())
    return parser.parse_args(["train-classifier", "data.tsv", "--out", "m.keras"])


def test_python_and_cli_defaults_are_the_same_objects():
    constructor = inspect.signature(TextClassifier).parameters
    fit = inspect.signature(TextClassifier.fit).parameters
    cli = train_parser()
    missing = {field.name for field in dataclasses.fields(DEFAULTS)
               if not hasattr(cli, CLI_NAMES.get(field.name, field.name))}
    assert missing == PYTHON_ONLY
    for field in dataclasses.fields(DEFAULTS):
        value = getattr(DEFAULTS, field.name)
        python = (fit if field.name in FIT_SETTINGS else constructor)[field.name].default
        command_line = getattr(cli, CLI_NAMES.get(field.name, field.name), value)
        if field.name in SHAPE_SETTINGS:
            assert python is None and command_line is None, field.name
        else:
            assert python is value, field.name
            assert command_line is value, field.name


def test_unset_shape_settings_resolve_to_the_defaults():
    shape = encoder_shape(TextClassifier())
    assert shape == {name: getattr(DEFAULTS, name) for name in SHAPE_SETTINGS}
    assert encoder_shape(TextClassifier(units=8))["units"] == 8
