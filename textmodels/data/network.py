"""Fail fast, with a message that names the offline alternative, before any call that would download.

Libraries such as tensorflow-datasets retry for minutes when there is no network; a three-second TCP probe
turns that into an immediate, actionable error.

Example:
    >>> from textmodels.data.network import OfflineError, require_network
    >>> try:
    ...     require_network("invalid.invalid", what="test data", alternative="pass a local path")
    ... except OfflineError as error:
    ...     "pass a local path" in str(error)
    True
"""

from __future__ import annotations

import socket

from textmodels.errors import TextmodelsError


class OfflineError(TextmodelsError, RuntimeError):
    """A download was needed but the host cannot be reached."""


def can_reach(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_network(host: str, *, what: str, alternative: str, port: int = 443) -> None:
    """Raise `OfflineError` unless ``host`` is reachable; ``what`` names the download, ``alternative`` the fix."""
    if not can_reach(host, port):
        raise OfflineError(
            f"Cannot download {what}: {host} is unreachable (offline?). {alternative}"
        )
