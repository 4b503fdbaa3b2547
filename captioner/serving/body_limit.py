"""ASGI middleware that refuses a request body over a size limit as it arrives (HTTP 413), never buffering it.

A declared ``Content-Length`` over the limit is refused without passing the request on; a body without one
(chunked) is counted as it streams in and refused as soon as it passes the limit. Before the 413 is sent the
rest of the body is read and thrown away (up to `DRAIN_BYTES` more), because a client still sending its
upload would otherwise see a reset connection instead of the error.

Example:
    >>> import asyncio
    >>> async def app(scope, receive, send):
    ...     while (await receive()).get("more_body"):
    ...         pass
    ...     await send({"type": "http.response.start", "status": 200, "headers": []})
    ...     await send({"type": "http.response.body", "body": b"ok"})
    >>> limited = BodySizeLimit(app, max_bytes=4)
    >>> async def post(body, headers=()):
    ...     sent = []
    ...     chunks = [{"type": "http.request", "body": body, "more_body": False}]
    ...     async def receive():
    ...         return chunks.pop(0)
    ...     async def send(message):
    ...         sent.append(message)
    ...     await limited({"type": "http", "headers": list(headers)}, receive, send)
    ...     return sent[0]["status"]
    >>> asyncio.run(post(b"abc")), asyncio.run(post(b"abcdef")), asyncio.run(post(b"", [(b"content-length", b"99")]))
    (200, 413, 413)
"""

from __future__ import annotations

import json

from captioner.serving.http_errors import ServingError, error_json

# Beyond this much more, an oversized body is not read to its end: the connection is closed instead.
DRAIN_BYTES = 64 * 2**20


class _BodyTooLarge(ServingError):
    pass


async def _drain(receive, more_body: bool) -> None:
    drained = 0
    while more_body and drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        more_body = message.get("more_body", False)


class BodySizeLimit:
    """Wraps an ASGI ``app``; HTTP requests whose body exceeds ``max_bytes`` get a 413 JSON error."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = int(max_bytes)

    def _error(self) -> _BodyTooLarge:
        return _BodyTooLarge(413, "upload_too_large",
                             f"The upload is larger than the limit of {self.max_bytes / 2**20:g} MiB; choose a "
                             "smaller file.")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _drain(receive, more_body=True)
            await self._send_error(send)
            return
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    await _drain(receive, message.get("more_body", False))
                    raise self._error()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._send_error(send)

    async def _send_error(self, send) -> None:
        body = json.dumps(error_json(self._error())).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
