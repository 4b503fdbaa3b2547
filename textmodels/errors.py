"""The base of every error that textmodels raises for bad input: a file, a setting, a saved model, a text.

Each error says what is wrong and names the culprit (the file, the line, the option), so a command can print it
as one line. The ``textmodels`` and ``captioner`` commands catch these (and `OSError`, for files and disks)
and nothing else: any other exception is a bug and keeps its traceback.

Every subclass also derives from the built-in exception it refines (most from `ValueError`), so existing
``except ValueError`` code keeps working.

Example:
    >>> from textmodels.errors import DataError
    >>> issubclass(DataError, TextmodelsError), issubclass(DataError, ValueError)
    (True, True)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import NamedTuple


class TextmodelsError(Exception):
    """Bad input to textmodels; the message names the culprit.

    Example:
        >>> str(TextmodelsError("corpus.txt: the corpus is empty"))
        'corpus.txt: the corpus is empty'
    """


class ConfigurationError(TextmodelsError, ValueError):
    """An invalid setting: a model option, a training option or a command-line value.

    Example:
        >>> isinstance(ConfigurationError("--units must be a positive integer, got 0"), ValueError)
        True
    """


def check_choice(name: str, value, choices, kinds: str | None = None) -> None:
    """`ConfigurationError` naming ``value`` and the valid ``choices`` unless ``value`` is one of them.

    Example:
        >>> try:
        ...     check_choice("cell", "rnn", ("gru", "lstm"), kinds="cells")
        ... except ConfigurationError as error:
        ...     print(error)
        Unknown cell 'rnn'; valid cells: gru, lstm.
    """
    if value not in choices:
        raise ConfigurationError(f"Unknown {name} {value!r}; valid {kinds or name + 's'}: {', '.join(choices)}.")


class Rule(NamedTuple):
    """What a numeric setting must be: ``accept(value)`` and the words for it (``"a positive integer"``). The same
    rules check Python arguments (`check`) and command-line options (`textmodels.commands.options`)."""

    accept: Callable[[object], bool]
    text: str


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_finite(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


POSITIVE_INT = Rule(lambda value: _is_int(value) and value >= 1, "a positive integer")
NON_NEGATIVE_INT = Rule(lambda value: _is_int(value) and value >= 0, "an integer >= 0")
INTEGER = Rule(_is_int, "an integer")
POSITIVE_NUMBER = Rule(lambda value: _is_finite(value) and value > 0, "a number > 0")
NON_NEGATIVE_NUMBER = Rule(lambda value: _is_finite(value) and value >= 0, "a number >= 0")
DROPOUT_RATE = Rule(lambda value: _is_finite(value) and 0 <= value < 1, "in [0, 1)")
OPEN_FRACTION = Rule(lambda value: _is_finite(value) and 0 < value < 1, "in (0, 1)")
PROBABILITY_MASS = Rule(lambda value: _is_finite(value) and 0 < value <= 1, "in (0, 1]")


def check(name: str, value, rule: Rule, optional: bool = False) -> None:
    """`ConfigurationError` naming ``name`` and ``value`` unless ``value`` follows ``rule`` (or, with
    ``optional``, is None).

    Example:
        >>> check("learning_rate", 0.01, POSITIVE_NUMBER)
        >>> try:
        ...     check("learning_rate", -1, POSITIVE_NUMBER)
        ... except ConfigurationError as error:
        ...     print(error)
        learning_rate must be a number > 0, got -1.
    """
    if optional and value is None:
        return
    if not rule.accept(value):
        raise ConfigurationError(f"{name} must be {rule.text}, got {value!r}.")


def check_all(rule: Rule, optional: bool = False, **values) -> None:
    """`check` for each ``name=value`` pair.

    Example:
        >>> try:
        ...     check_all(POSITIVE_INT, epochs=3, batch_size=0)
        ... except ConfigurationError as error:
        ...     print(error)
        batch_size must be a positive integer, got 0.
    """
    for name, value in values.items():
        check(name, value, rule, optional)


def check_positive_int(name: str, value) -> None:
    """`ConfigurationError` unless ``value`` is an int >= 1.

    Example:
        >>> check_positive_int("units", 8)
        >>> try:
        ...     check_positive_int("units", 0)
        ... except ConfigurationError as error:
        ...     print(error)
        units must be a positive integer, got 0.
    """
    check(name, value, POSITIVE_INT)


class DataError(TextmodelsError, ValueError):
    """A dataset file is missing, empty or malformed; the message names the file and, where known, the line.

    Example:
        >>> from textmodels.errors import DataError
        >>> str(DataError("train.tsv, line 7: empty label"))
        'train.tsv, line 7: empty label'
    """


class CorpusError(DataError):
    """A corpus that cannot train or evaluate a language model (empty, too short for one window, no tokens).

    Example:
        >>> isinstance(CorpusError("corpus.txt: the corpus is empty"), ValueError)
        True
    """
