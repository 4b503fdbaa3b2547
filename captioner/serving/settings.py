"""The limits and batching settings of the caption server, in one place (``captioner serve`` options).

Example:
    >>> settings = ServingSettings(max_upload_mb=2)
    >>> settings.max_upload_bytes, settings.max_wait_ms, settings.max_requests
    (2097152, 5.0, 80)
"""

from __future__ import annotations

from dataclasses import dataclass

from textmodels.errors import ConfigurationError


@dataclass(frozen=True)
class ServingSettings:
    """What the server accepts and how it batches.

    Every bound is there so that no request, and no burst of them, can make the server hold unbounded memory:
    a body over ``max_upload_mb`` is refused as it arrives (HTTP 413), an image over ``max_pixels`` from its
    header before any pixel is decoded (413), at most ``decode_threads`` uploads are decoded at once, at most
    ``max_queue`` decoded images wait for the model, and at most `max_requests` requests are held at all (more
    get HTTP 503 with ``Retry-After`` before their body is read). A request must arrive within
    ``request_timeout_s`` (HTTP 408), and a stop (SIGTERM, Ctrl+C) waits ``shutdown_timeout_s`` for the
    requests in flight.
    """

    # Largest request body (the upload plus its form fields), in MiB.
    max_upload_mb: float = 10.0
    # Largest image accepted, width x height; refused from the header (a 100-megapixel image is refused).
    max_pixels: int = 40_000_000
    # Images waiting for the model beyond the batch being captioned; a request finding the queue full gets 503.
    max_queue: int = 64
    # Most images captioned in one batch.
    max_batch: int = 16
    # How long the batching thread waits for more requests after the first one of a batch, in milliseconds.
    max_wait_ms: float = 5.0
    # Uploads decoded concurrently (a full-size decode of a large photo takes hundreds of MB).
    decode_threads: int = 2
    # Widest beam and most captions a request may ask for.
    max_beam_size: int = 10
    # Seconds a client is told to wait (Retry-After) when the queue is full or the server is warming up.
    retry_after_s: int = 1
    # Seconds a client has to send its request headers after connecting, and then again its body (a 10 MiB
    # upload at 2 Mbit/s takes 42 s); slower requests are cut off with HTTP 408.
    request_timeout_s: float = 60.0
    # Seconds a stop (SIGTERM, Ctrl+C) waits for the requests in flight before cancelling them.
    shutdown_timeout_s: float = 30.0

    def __post_init__(self):
        for name in ("max_upload_mb", "max_pixels", "max_queue", "max_batch", "decode_threads", "max_beam_size",
                     "retry_after_s", "request_timeout_s", "shutdown_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be positive, got {getattr(self, name)!r}.")
        if self.max_wait_ms < 0:
            raise ConfigurationError(f"max_wait_ms must be >= 0, got {self.max_wait_ms!r}.")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_requests(self) -> int:
        """Requests the server holds at once (receiving, decoding, waiting or being captioned): a full queue and
        a full batch. One more is refused at once with HTTP 503, so a burst costs at most this many uploads."""
        return self.max_queue + self.max_batch
