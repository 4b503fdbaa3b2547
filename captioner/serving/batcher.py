"""Dynamic batching: one thread gathers concurrent caption requests for a few milliseconds and runs them together.

Requests wait in a bounded queue. The thread takes the first one, keeps collecting until ``max_batch`` images
or ``max_wait_s`` have passed, and captions each group of equal beam width with a single
``Captioner.caption`` call: the images go through the encoder as one batch and are decoded together (beam
search over every image's beams at once), so eight concurrent requests cost little more than one. A request
that finds the queue full is refused at once (`QueueFullError`) instead of piling up memory.

Example:
    >>> import numpy as np
    >>> from captioner.api import Captioner
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
    >>> batcher = CaptionBatcher(Captioner(model), max_batch=4, max_wait_s=0.01)
    >>> batcher.start()
    >>> futures = [batcher.submit(np.zeros((16, 16, 3), np.float32), beam_size=2, num_captions=2) for _ in range(3)]
    >>> [len(future.result(timeout=60)) for future in futures]
    [2, 2, 2]
    >>> batcher.stop()
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np


class QueueFullError(RuntimeError):
    """The request queue is at capacity; the client should retry shortly."""


@dataclass
class _Request:
    pixels: np.ndarray
    beam_size: int
    num_captions: int
    future: Future = field(default_factory=Future)


@dataclass
class BatchStats:
    """Counters of the batching thread (for ``GET /health`` and the tests that check batching happens)."""

    batches: int = 0
    images: int = 0
    largest_batch: int = 0


class CaptionBatcher:
    """Owns the one loaded `captioner.api.Captioner` and the thread that runs it.

    Args:
        captioner: the model, loaded once.
        max_batch: most images per batch.
        max_wait_s: how long to wait for more requests after the first of a batch.
        max_queue: most requests waiting; `submit` raises `QueueFullError` beyond.
    """

    def __init__(self, captioner, max_batch: int = 16, max_wait_s: float = 0.005, max_queue: int = 64):
        self.captioner = captioner
        self.max_batch = int(max_batch)
        self.max_wait_s = float(max_wait_s)
        self.max_queue = int(max_queue)
        self.stats = BatchStats()
        self._queue: queue.Queue[_Request] = queue.Queue(maxsize=self.max_queue)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def waiting(self) -> int:
        """Requests in the queue now."""
        return self._queue.qsize()

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="caption-batcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in progress and stop the thread; requests still queued are cancelled."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout)
        self._thread = None
        while True:
            try:
                self._queue.get_nowait().future.cancel()
            except queue.Empty:
                break

    def submit(self, pixels: np.ndarray, beam_size: int, num_captions: int) -> Future:
        """Queue one image (already at the model's input size); the future gives its ``num_captions`` best
        ``{"caption", "log_prob", "score"}`` candidates, best first."""
        if self._thread is None:
            raise RuntimeError("The batcher is not running; call start() first.")
        request = _Request(pixels, int(beam_size), int(num_captions))
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            raise QueueFullError(f"{self.max_queue} requests are already waiting") from None
        return request.future

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = [self._queue.get(timeout=0.1)]
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            self._caption(batch)

    def _caption(self, batch: list[_Request]) -> None:
        live = [request for request in batch if request.future.set_running_or_notify_cancel()]
        self.stats.batches += 1
        self.stats.images += len(live)
        self.stats.largest_batch = max(self.stats.largest_batch, len(live))
        by_beam: dict[int, list[_Request]] = defaultdict(list)
        for request in live:
            by_beam[request.beam_size].append(request)
        for beam_size, requests in by_beam.items():
            try:
                # return_scores keeps every beam's hypothesis, so each request can take as many as it asked for;
                # the best one is the caption Captioner.caption(image, beam_size=...) gives.
                results = self.captioner.caption([request.pixels for request in requests], beam_size=beam_size,
                                                 return_scores=True, batch_size=len(requests))
            except Exception as error:  # noqa: BLE001 - handed to the waiting requests, the thread keeps serving
                for request in requests:
                    request.future.set_exception(error)
                continue
            for request, candidates in zip(requests, results):
                if isinstance(candidates, list):
                    request.future.set_result(candidates[: request.num_captions])
                else:  # a CaptionFailure: the pixels were refused
                    request.future.set_exception(ValueError(candidates.error))
