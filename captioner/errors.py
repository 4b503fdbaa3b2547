"""`CaptionerError`, from which every captioner exception for bad input derives, as every textmodels one derives
from `textmodels.errors.TextmodelsError` (the rules they share are described there).

Example:
    >>> from captioner.errors import CaptionDataError
    >>> issubclass(CaptionDataError, CaptionerError) and issubclass(CaptionDataError, ValueError)
    True
"""

from __future__ import annotations


class CaptionerError(Exception):
    """Bad input to captioner: a caption file, a photo, a feature cache, encoder weights, a saved model."""


class CaptionDataError(CaptionerError, ValueError):
    """A caption file or image folder is malformed; the message names the file, key, image id or annotation id."""



class DecodingSettingsError(CaptionerError, ValueError):
    """A decoding setting (beam width, length penalty, caption length, n-gram blocking) out of its range; the
    message names the setting, its range and the value."""


class PresetError(CaptionerError, ValueError):
    """A preset that is unknown (the message lists the known ones), missing, or whose file fails its digest."""
