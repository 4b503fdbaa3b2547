"""The one exception every caption reader raises for bad data.

Example:
    >>> from captioner.data.errors import CaptionDataError
    >>> issubclass(CaptionDataError, ValueError)
    True
"""

from __future__ import annotations

from captioner.errors import CaptionerError


class CaptionDataError(CaptionerError, ValueError):
    """A caption file or image folder is malformed; the message names the file, key, image id or annotation id."""
