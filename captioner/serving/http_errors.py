"""The one error type of the caption server, and the JSON every error response carries.

Every refusal is ``{"error": "<a sentence for people>", "code": "<a name for programs>"}`` with a fitting HTTP
status; the web page shows the sentence.

Example:
    >>> error = ServingError(413, "upload_too_large", "The upload is over the 10 MiB limit.")
    >>> error.status_code, error_json(error)
    (413, {'error': 'The upload is over the 10 MiB limit.', 'code': 'upload_too_large'})
"""

from __future__ import annotations

from starlette.exceptions import HTTPException


class ServingError(HTTPException):
    """A request the server refuses: HTTP ``status``, a stable ``code`` and a readable ``message``.

    A subclass of Starlette's ``HTTPException``, so that it passes unchanged through the framework's own
    request handling (e.g. when raised while the body is being read).
    """

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code
        self.message = message


def error_json(error: ServingError) -> dict:
    """The response body for ``error``."""
    return {"error": error.message, "code": error.code}
