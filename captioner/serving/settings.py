"""The limits and batching settings of the caption server, in one place (``captioner serve`` options).

Example:
    >>> settings = ServingSettings(max_upload_mb=2)
    >>> settings.max_upload_bytes, settings.max_wait_ms
    (2097152, 5.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from textmodels.errors import ConfigurationError


@dataclass(frozen=True)
class ServingSettings:
    """What the server accepts and how it batches.

    Every bound is there so that no request, and no burst of them, can make the server hold unbounded memory:
    a body over ``max_upload_mb`` is refused as it arrives (HTTP 413), an image over ``max_pixels`` from its
    header before any pixel is decoded (413), at most ``decode_threads`` uploads are decoded at once, and at
    most ``max_queue`` decoded images wait for the model (more get HTTP 503 with ``Retry-After``).
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
    # Seconds a client is told to wait (Retry-After) when the queue is full.
    retry_after_s: int = 1

    def __post_init__(self):
        for name in ("max_upload_mb", "max_pixels", "max_queue", "max_batch", "decode_threads", "max_beam_size",
                     "retry_after_s"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be positive, got {getattr(self, name)!r}.")
        if self.max_wait_ms < 0:
            raise ConfigurationError(f"max_wait_ms must be >= 0, got {self.max_wait_ms!r}.")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
