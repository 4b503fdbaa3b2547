"""Dynamic batching: one thread gathers concurrent caption requests for a few milliseconds and runs them together.

Requests wait in a bounded queue. The thread takes the first one, keeps collecting until ``max_batch`` images
or ``max_wait_s`` have passed, and captions each group of equal beam width with a single
``Captioner.caption`` call: the images go through the encoder as one batch and are decoded together (beam
search over every image's beams at once), so eight concurrent requests cost little more than one. A request
that finds the queue full is refused at once (`QueueFullError`) instead of piling up memory.

Every batch is padded (with copies of its last image) to one of a few fixed sizes (`padded_batch_sizes`: 1, 2,
3, 4, 6, 8, 12, 16 for ``max_batch=16``), so the model sees only those shapes whatever the traffic. Before it
takes the first request the thread warms up: it runs the encoder at every one of those sizes and a decoder step
at every size and beam width up to ``max_beam_size``, which traces every graph (JAX compiles one per shape;
TensorFlow's single dynamic-batch graphs get their kernels and buffers for each shape), so no request ever
pays for tracing and memory stops growing once the warm-up is done. `ready` is set when it has finished.

Example:
    >>> import numpy as np
    >>> from captioner.api import Captioner
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
    >>> batcher = CaptionBatcher(Captioner(model), max_batch=4, max_wait_s=0.01, max_beam_size=2)
    >>> batcher.batch_sizes
    (1, 2, 3, 4)
    >>> batcher.start()
    >>> batcher.ready.wait(timeout=60)
    True
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


def padded_batch_sizes(max_batch: int) -> tuple[int, ...]:
    """The sizes batches are padded to: powers of two, the sizes halfway between them and ``max_batch``.

    Few shapes (2 log2 ``max_batch``), and padding costs less than a third of a batch.

    Example:
        >>> padded_batch_sizes(16), padded_batch_sizes(10)
        ((1, 2, 3, 4, 6, 8, 12, 16), (1, 2, 3, 4, 6, 8, 10))
    """
    sizes = {int(max_batch)}
    power = 1
    while power < max_batch:
        sizes.update(size for size in (power, power + power // 2) if size < max_batch)
        power *= 2
    return tuple(sorted(sizes))


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
    # Images added to fill batches up to a fixed size (the cost of never tracing a new shape).
    padding: int = 0


class CaptionBatcher:
    """Owns the one loaded `captioner.api.Captioner` and the thread that runs it.

    Args:
        captioner: the model, loaded once.
        max_batch: most images per batch.
        max_wait_s: how long to wait for more requests after the first of a batch.
        max_queue: most requests waiting; `submit` raises `QueueFullError` beyond.
        max_beam_size: the widest beam a request may ask for (the warm-up covers every width up to it).
    """

    def __init__(self, captioner, max_batch: int = 16, max_wait_s: float = 0.005, max_queue: int = 64,
                 max_beam_size: int = 10):
        self.captioner = captioner
        self.max_batch = int(max_batch)
        self.max_wait_s = float(max_wait_s)
        self.max_queue = int(max_queue)
        self.max_beam_size = int(max_beam_size)
        self.batch_sizes = padded_batch_sizes(self.max_batch)
        self.stats = BatchStats()
        # Set once the warm-up has traced every shape; `warm_up_error` says why when it failed instead.
        self.ready = threading.Event()
        self.warm_up_seconds: float | None = None
        self.warm_up_error: str | None = None
        self._warm_up_over = threading.Event()
        self._queue: queue.Queue[_Request] = queue.Queue(maxsize=self.max_queue)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def waiting(self) -> int:
        """Requests in the queue now."""
        return self._queue.qsize()

    def start(self) -> None:
        """Start the thread: it warms up first (`ready` is set when done), then captions what is submitted."""
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

    def _fail_waiting(self, error: Exception) -> None:
        while True:
            try:
                future = self._queue.get_nowait().future
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(error)

    def submit(self, pixels: np.ndarray, beam_size: int, num_captions: int) -> Future:
        """Queue one image (already at the model's input size); the future gives its ``num_captions`` best
        ``{"caption", "log_prob", "score"}`` candidates, best first."""
        if self._thread is None:
            raise RuntimeError("The batcher is not running; call start() first.")
        if self.warm_up_error is not None:
            raise RuntimeError(f"The batcher could not warm up: {self.warm_up_error}")
        request = _Request(pixels, int(beam_size), int(num_captions))
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            raise QueueFullError(f"{self.max_queue} requests are already waiting") from None
        return request.future

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait for the warm-up: True once it is done, False after ``timeout`` seconds; `RuntimeError` with the
        reason when it failed."""
        self._warm_up_over.wait(timeout)
        if self.warm_up_error is not None:
            raise RuntimeError(f"The warm-up failed: {self.warm_up_error}")
        return self.ready.is_set()

    def warm_up(self) -> None:
        """Trace and run every shape the model will see: the encoder at each batch size, then the decoder's
        steps for each batch size and beam width (two steps of each search, which is all that varies)."""
        model = self.captioner.model
        height, width = self.captioner.image_size
        for size in self.batch_sizes:
            features = model.encode_images(np.zeros((size, height, width, 3), np.float32))
            for beam_size in range(1, self.max_beam_size + 1):
                model.generate(features, beam_size=beam_size, num_return=beam_size, max_length=2, min_length=0)

    def _run(self) -> None:
        if not self.ready.is_set():
            started = time.perf_counter()
            try:
                self.warm_up()
            except Exception as error:  # noqa: BLE001 - reported by /health and the server, which then stops
                self.warm_up_error = f"{type(error).__name__}: {error}"
                self._warm_up_over.set()
                self._fail_waiting(RuntimeError(f"The server could not warm up: {self.warm_up_error}"))
                return
            self.warm_up_seconds = time.perf_counter() - started
            self.ready.set()
            self._warm_up_over.set()
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
            images = [request.pixels for request in requests]
            size = next(size for size in self.batch_sizes if size >= len(images))
            # Copies of a real image: the search stops when the real ones do, and the copies are dropped.
            images += [images[-1]] * (size - len(images))
            self.stats.padding += size - len(requests)
            try:
                # return_scores keeps every beam's hypothesis, so each request can take as many as it asked for;
                # the best one is the caption Captioner.caption(image, beam_size=...) gives.
                results = self.captioner.caption(images, beam_size=beam_size, return_scores=True,
                                                 batch_size=size)[: len(requests)]
            except Exception as error:  # noqa: BLE001 - handed to the waiting requests, the thread keeps serving
                for request in requests:
                    request.future.set_exception(error)
                continue
            for request, candidates in zip(requests, results):
                if isinstance(candidates, list):
                    request.future.set_result(candidates[: request.num_captions])
                else:  # a CaptionFailure: the pixels were refused
                    request.future.set_exception(ValueError(candidates.error))
