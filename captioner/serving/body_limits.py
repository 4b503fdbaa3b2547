"""ASGI middleware that bounds a request body in size (HTTP 413) and in time (HTTP 408), never buffering it.

A declared ``Content-Length`` over the size limit is refused without passing the request on; a body without one
(chunked) is counted as it streams in and refused as soon as it passes the limit. Before the 413 is sent the
rest of the body is read and thrown away (up to `DRAIN_BYTES` more), because a client still sending its
upload would otherwise see a reset connection instead of the error.

A body that has not arrived in full ``timeout_s`` seconds after the request's headers (a client sending one
byte a second holds a connection, a slot and memory for as long as it likes) is answered with 408 and the
connection is closed, without reading the rest.

Example:
    >>> import asyncio
    >>> async def app(scope, receive, send):
    ...     while (await receive()).get("more_body"):
    ...         pass
    ...     await send({"type": "http.response.start", "status": 200, "headers": []})
    ...     await send({"type": "http.response.body", "body": b"ok"})
    >>> limited = BodyLimits(app, max_bytes=4, timeout_s=0.05)
    >>> async def post(body, headers=(), pause=0.0):
    ...     sent = []
    ...     chunks = [{"type": "http.request", "body": body, "more_body": False}]
    ...     async def receive():
    ...         await asyncio.sleep(pause)
    ...         return chunks.pop(0)
    ...     async def send(message):
    ...         sent.append(message)
    ...     await limited({"type": "http", "headers": list(headers)}, receive, send)
    ...     return sent[0]["status"]
    >>> asyncio.run(post(b"abc")), asyncio.run(post(b"abcdef")), asyncio.run(post(b"", [(b"content-length", b"99")]))
    (200, 413, 413)
    >>> asyncio.run(post(b"abc", pause=1.0))
    408
"""

from __future__ import annotations

import asyncio
import json
import time

from captioner.serving.http_errors import ServingError, error_json

# Beyond this much more, an oversized body is not read to its end: the connection is closed instead.
DRAIN_BYTES = 64 * 2**20


class _BodyRefused(ServingError):
    pass


async def _drain(receive, more_body: bool) -> None:
    drained = 0
    while more_body and drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        more_body = message.get("more_body", False)


class BodyLimits:
    """Wraps an ASGI ``app``: a request body over ``max_bytes`` gets a 413 JSON error, one still arriving
    ``timeout_s`` seconds after the headers a 408 (and the connection is closed)."""

    def __init__(self, app, max_bytes: int, timeout_s: float = 60.0):
        self.app = app
        self.max_bytes = int(max_bytes)
        self.timeout_s = float(timeout_s)

    def _too_large(self) -> _BodyRefused:
        return _BodyRefused(413, "upload_too_large",
                            f"The upload is larger than the limit of {self.max_bytes / 2**20:g} MiB; choose a "
                            "smaller file.")

    def _too_slow(self) -> _BodyRefused:
        return _BodyRefused(408, "request_timeout",
                            f"The request body did not arrive within {self.timeout_s:g} s; the connection is too "
                            "slow or stalled. Try again, or send a smaller photo.", headers={"Connection": "close"})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _drain(receive, more_body=True)
            await self._send_error(send, self._too_large())
            return
        received = 0
        started = False
        deadline = time.monotonic() + self.timeout_s
        body_done = False

        async def limited_receive():
            nonlocal received, body_done
            if body_done:  # after the body only a disconnect can come, whenever it comes: not timed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:  # the built-in TimeoutError from Python 3.11
                raise self._too_slow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self.max_bytes:
                    await _drain(receive, message.get("more_body", False))
                    raise self._too_large()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyRefused as error:
            if started:
                raise
            await self._send_error(send, error)

    async def _send_error(self, send, error: ServingError) -> None:
        body = json.dumps(error_json(error)).encode()
        await send({"type": "http.response.start", "status": error.status_code,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
