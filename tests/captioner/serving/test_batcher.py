"""Dynamic batching: concurrent requests share one encoder/decoder call, answers stay per request, bounds hold."""

from __future__ import annotations

import time

import pytest

from captioner.data.images import load_image
from captioner.serving.batcher import CaptionBatcher, QueueFullError


@pytest.fixture(scope="module")
def pixels(trained_captioner, loaded_captioner):
    return [load_image(path, size=loaded_captioner.image_size) for path in trained_captioner[2][:6]]


def _captions(candidates):
    return [candidate["caption"] for candidate in candidates]


def test_requests_arriving_together_are_captioned_in_one_batch(loaded_captioner, pixels):
    batcher = CaptionBatcher(loaded_captioner, max_batch=16, max_wait_s=0.2)
    batcher.start()
    try:
        futures = [batcher.submit(image, beam_size=3, num_captions=2) for image in pixels]
        results = [future.result(timeout=60) for future in futures]
    finally:
        batcher.stop()
    assert (batcher.stats.batches, batcher.stats.largest_batch, batcher.stats.images) == (1, 6, 6)
    for image, result in zip(pixels, results):
        expected = loaded_captioner.caption(image, beam_size=3, return_scores=True)[:2]
        assert _captions(result) == _captions(expected)
        assert [c["score"] for c in result] == pytest.approx([c["score"] for c in expected], abs=1e-5)


def test_one_batch_serves_different_beam_widths_each_with_its_own(loaded_captioner, pixels):
    batcher = CaptionBatcher(loaded_captioner, max_wait_s=0.2)
    batcher.start()
    try:
        asks = [(pixels[0], 1, 1), (pixels[1], 4, 4), (pixels[2], 1, 1), (pixels[3], 2, 1)]
        futures = [batcher.submit(*ask) for ask in asks]
        results = [future.result(timeout=60) for future in futures]
    finally:
        batcher.stop()
    assert batcher.stats.largest_batch == 4
    for (image, beam_size, count), result in zip(asks, results):
        assert len(result) == count
        assert _captions(result) == _captions(loaded_captioner.caption(image, beam_size=beam_size,
                                                                       return_scores=True)[:count])


def test_a_batch_never_exceeds_max_batch(loaded_captioner, pixels):
    batcher = CaptionBatcher(loaded_captioner, max_batch=2, max_wait_s=0.2)
    batcher.start()
    try:
        for future in [batcher.submit(image, 2, 1) for image in pixels[:5]]:
            future.result(timeout=60)
    finally:
        batcher.stop()
    assert batcher.stats.largest_batch == 2 and batcher.stats.batches == 3


class _FailsOnce:
    def __init__(self, captioner):
        self.captioner, self.image_size, self.failed = captioner, captioner.image_size, False

    def caption(self, *args, **kwargs):
        if not self.failed:
            self.failed = True
            raise RuntimeError("decoder exploded")
        return self.captioner.caption(*args, **kwargs)


def test_a_failing_batch_fails_its_requests_and_the_thread_keeps_serving(loaded_captioner, pixels):
    batcher = CaptionBatcher(_FailsOnce(loaded_captioner), max_wait_s=0.0)
    batcher.start()
    try:
        with pytest.raises(RuntimeError, match="decoder exploded"):
            batcher.submit(pixels[0], 2, 1).result(timeout=60)
        assert len(batcher.submit(pixels[0], 2, 1).result(timeout=60)) == 1
    finally:
        batcher.stop()


def test_a_full_queue_refuses_at_once_and_stop_cancels_what_waits(gated_captioner, pixels):
    batcher = CaptionBatcher(gated_captioner, max_batch=1, max_wait_s=0.0, max_queue=2)
    batcher.start()
    held = batcher.submit(pixels[0], 2, 1)
    while batcher.stats.batches == 0:  # the thread took it and waits at the gate
        time.sleep(0.01)
    waiting = [batcher.submit(image, 2, 1) for image in pixels[1:3]]
    started = time.perf_counter()
    with pytest.raises(QueueFullError, match="2 requests are already waiting"):
        batcher.submit(pixels[3], 2, 1)
    assert time.perf_counter() - started < 0.1 and batcher.waiting == 2
    gated_captioner.gate.set()
    assert len(held.result(timeout=60)) == 1
    batcher.stop()
    # Whatever was still queued when the server stopped is cancelled, not left hanging.
    assert all(future.done() for future in waiting)
    assert all(future.cancelled() or len(future.result()) == 1 for future in waiting)
