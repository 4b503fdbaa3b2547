"""`CaptionerError`, from which every captioner exception for bad input derives, as every textmodels one derives
from `textmodels.errors.TextmodelsError` (the rules they share are described there).

Example:
    >>> from captioner.data.errors import CaptionDataError
    >>> issubclass(CaptionDataError, CaptionerError) and issubclass(CaptionDataError, ValueError)
    True
"""

from __future__ import annotations


class CaptionerError(Exception):
    """Bad input to captioner: a caption file, a photo, a feature cache, encoder weights, a saved model."""
