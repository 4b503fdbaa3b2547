"""The errors every dataset reader raises for bad input.

Example:
    >>> from textmodels.data.errors import DataError
    >>> isinstance(DataError("reviews.tsv, line 3: expected 2 fields, found 1"), ValueError)
    True
"""

from __future__ import annotations

from textmodels.errors import TextmodelsError


class DataError(TextmodelsError, ValueError):
    """A dataset file is missing, empty or malformed; the message names the file and, where known, the line.

    Example:
        >>> from textmodels.data.errors import DataError
        >>> str(DataError("train.tsv, line 7: empty label"))
        'train.tsv, line 7: empty label'
    """


class CorpusError(DataError):
    """A corpus that cannot train or evaluate a language model (empty, too short for one window, no tokens).

    Example:
        >>> isinstance(CorpusError("corpus.txt: the corpus is empty"), ValueError)
        True
    """
