"""The base of every error that textmodels raises for bad input: a file, a setting, a saved model, a text.

Each error says what is wrong and names the culprit (the file, the line, the option), so a command can print it
as one line. The ``textmodels`` and ``captioner`` commands catch these (and `OSError`, for files and disks)
and nothing else: any other exception is a bug and keeps its traceback.

Every subclass also derives from the built-in exception it refines (most from `ValueError`), so existing
``except ValueError`` code keeps working.

Example:
    >>> from textmodels.data.errors import DataError
    >>> issubclass(DataError, TextmodelsError), issubclass(DataError, ValueError)
    (True, True)
"""

from __future__ import annotations


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
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")
