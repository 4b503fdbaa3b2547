"""Bad arguments to the captioner's Python API (`Captioner.load`, `Captioner.caption`, `train_captioner`): the
same rules as the command line, each refused naming the argument (the cases and their runner: `bad_input`)."""

from __future__ import annotations

import pytest
from bad_input import cases, run_case

from captioner.api import Captioner, CaptionerLoadError
from captioner.errors import DecodingSettingsError
from textmodels.errors import ConfigurationError

pytestmark = pytest.mark.all_backends


def caption_with(**options):
    def act(w):
        return w.loaded_captioner.caption(w.photo, **options)

    return act


def train_captioner_with(**options):
    def act(w):
        from captioner.config import CaptionerConfig
        from captioner.training import train_captioner

        return train_captioner([], CaptionerConfig(**options), verbose=0)

    return act


CASES = [
    (
        "Captioner.load(None)",
        lambda w: Captioner.load(None),
        (CaptionerLoadError, r"needs the path of a \.keras file, got None"),
    ),
    (
        "caption(batch_size=0)",
        caption_with(batch_size=0),
        (ConfigurationError, r"batch_size must be a positive integer, got 0"),
    ),
    ("caption(seed='abc')", caption_with(seed="abc"), (ConfigurationError, r"seed must be an integer, got 'abc'")),
    (
        "caption(max_length=0)",
        caption_with(max_length=0),
        (DecodingSettingsError, r"max_length must be None or an integer from 1 to 200, got 0"),
    ),
    (
        "caption(max_length=-1)",
        caption_with(max_length=-1),
        (DecodingSettingsError, r"max_length must be None or an integer from 1 to 200, got -1"),
    ),
    (
        "caption(beam_size=0)",
        caption_with(beam_size=0),
        (DecodingSettingsError, r"beam_size must be an integer from 1 to 100, got 0"),
    ),
    (
        "caption(temperature=-1)",
        caption_with(temperature=-1.0),
        (ConfigurationError, r"temperature must be a number >= 0, got -1.0"),
    ),
    (
        "train_captioner(epochs=0)",
        train_captioner_with(epochs=0),
        (ConfigurationError, r"epochs must be a positive integer, got 0"),
    ),
    (
        "train_captioner(batch_size=0)",
        train_captioner_with(batch_size=0),
        (ConfigurationError, r"batch_size must be a positive integer, got 0"),
    ),
    (
        "train_captioner(learning_rate=-1)",
        train_captioner_with(learning_rate=-1.0),
        (ConfigurationError, r"learning_rate must be a number > 0, got -1.0"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)
