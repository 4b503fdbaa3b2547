"""Dynamic batching: concurrent requests share one encoder/decoder call, answers stay per request, bounds hold."""

from __future__ import annotations

import random
import time
from collections import Counter

import keras
import numpy as np
import pytest

from captioner.data.images import load_image
from captioner.serving.batcher import CaptionBatcher, QueueFullError

pytestmark = pytest.mark.all_backends


@pytest.fixture(scope="module")
def pixels(trained_captioner, loaded_captioner):
    return [load_image(path, size=loaded_captioner.image_size) for path in trained_captioner[2][:6]]


def _started(batcher: CaptionBatcher) -> CaptionBatcher:
    """Started and warmed up (few shapes: JAX compiles each), so that timeouts time the batching alone."""
    batcher.start()
    assert batcher.wait_until_ready(timeout=600)
    return batcher


def _captions(candidates):
    return [candidate["caption"] for candidate in candidates]


def test_requests_arriving_together_are_captioned_in_one_batch(loaded_captioner, pixels):
    batcher = _started(CaptionBatcher(loaded_captioner, max_batch=8, max_wait_s=0.2, max_beam_size=3))
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
    batcher = _started(CaptionBatcher(loaded_captioner, max_batch=4, max_wait_s=0.2, max_beam_size=4))
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
    batcher = _started(CaptionBatcher(loaded_captioner, max_batch=2, max_wait_s=0.2, max_beam_size=2))
    try:
        for future in [batcher.submit(image, 2, 1) for image in pixels[:5]]:
            future.result(timeout=60)
    finally:
        batcher.stop()
    assert batcher.stats.largest_batch == 2 and batcher.stats.batches == 3


class _FailsOnce:
    def __init__(self, captioner):
        self.captioner, self.model, self.image_size = captioner, captioner.model, captioner.image_size
        self.failed = False

    def caption(self, *args, **kwargs):
        if not self.failed:
            self.failed = True
            raise RuntimeError("decoder exploded")
        return self.captioner.caption(*args, **kwargs)


def test_a_failing_batch_fails_its_requests_and_the_thread_keeps_serving(loaded_captioner, pixels):
    batcher = _started(CaptionBatcher(_FailsOnce(loaded_captioner), max_batch=1, max_wait_s=0.0, max_beam_size=2))
    try:
        with pytest.raises(RuntimeError, match="decoder exploded"):
            batcher.submit(pixels[0], 2, 1).result(timeout=60)
        assert len(batcher.submit(pixels[0], 2, 1).result(timeout=60)) == 1
    finally:
        batcher.stop()


def test_a_full_queue_refuses_at_once_and_stop_cancels_what_waits(gated_captioner, pixels):
    batcher = _started(CaptionBatcher(gated_captioner, max_batch=1, max_wait_s=0.0, max_queue=2, max_beam_size=2))
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


def test_after_the_warm_up_no_traffic_traces_another_graph(monkeypatch):
    """Every group size from 1 to max_batch and every beam width: the graphs traced are those of the warm-up."""
    if keras.backend.backend() == "torch":
        pytest.skip("PyTorch runs eagerly: nothing is traced")
    import captioner.decoding_steps as decoding_steps_module
    import captioner.model as model_module
    from captioner.api import Captioner
    from captioner.model import CaptionModel, fit_caption_vocabulary

    traces = Counter()
    compile_step = model_module.compile_step

    def counting_compile_step(function, *args, **kwargs):
        name = f"{getattr(function, '__name__', 'step')} #{len(traces)}"
        traces[name] = 0

        def counted(*call_args):
            traces[name] += 1  # the Python body runs only while the graph is traced
            return function(*call_args)

        return compile_step(counted, *args, **kwargs)

    # The encoder's graph is compiled in captioner.model, the decoder's steps in captioner.decoding_steps.
    monkeypatch.setattr(model_module, "compile_step", counting_compile_step)
    monkeypatch.setattr(decoding_steps_module, "compile_step", counting_compile_step)
    model = CaptionModel.create(fit_caption_vocabulary(["a red circle", "a blue square"], min_count=1),
                                {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8},
                                embedding_dim=4, units=8)
    batcher = CaptionBatcher(Captioner(model), max_batch=6, max_wait_s=0.05, max_beam_size=2)
    batcher.start()
    try:
        assert batcher.wait_until_ready(timeout=300)
        after_warm_up = dict(traces)
        rng = random.Random(0)
        images = np.random.default_rng(0).uniform(0, 255, (6, 16, 16, 3)).astype("float32")
        # Each size with one beam width, then mixed widths (a batch is split into one group per width).
        bursts = [[1 + size % 2] * size for size in range(1, 7)]
        bursts += [[rng.randint(1, 2) for _ in range(rng.randint(1, 6))] for _ in range(12)]
        for beams in bursts:
            futures = [batcher.submit(images[index], beam, 1) for index, beam in enumerate(beams)]
            assert all(len(future.result(timeout=120)) == 1 for future in futures)
    finally:
        batcher.stop()
    assert dict(traces) == after_warm_up
    assert batcher.stats.padding > 0 and batcher.stats.largest_batch == 6  # groups of 5 were padded to 6
    if keras.backend.backend() == "tensorflow":
        # One graph per function (encoder, initial state, decoder steps), whatever the batch size or beam width.
        assert max(after_warm_up.values()) == 1 and len(after_warm_up) <= 4, after_warm_up
