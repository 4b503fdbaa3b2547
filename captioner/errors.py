"""The base of every error that captioner raises for bad input: a caption file, a photo, a feature cache,
encoder weights, a saved model.

The ``captioner`` command prints these (with textmodels' own `textmodels.errors.TextmodelsError` and `OSError`)
as one line; any other exception is a bug and keeps its traceback. Every subclass also derives from the
built-in exception it refines (`ValueError`), so ``except ValueError`` keeps working.

Example:
    >>> from captioner.data.errors import CaptionDataError
    >>> issubclass(CaptionDataError, CaptionerError), issubclass(CaptionDataError, ValueError)
    (True, True)
"""

from __future__ import annotations


class CaptionerError(Exception):
    """Bad input to captioner; the message names the culprit.

    Example:
        >>> str(CaptionerError("photo.jpg: not an image"))
        'photo.jpg: not an image'
    """
