"""Fixtures for the serving and export tests: a small trained captioner and caption servers on localhost."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture(scope="session")
def trained_captioner(tmp_path_factory):
    """A captioner trained for a few seconds on 200 synthetic 32-px images (BLEU-4 about 0.5 on its test split).

    Returns ``(model_path, synthetic_folder, test_image_paths)``. Trained, not random: its next-word
    distributions are peaked as a real model's are, so comparisons of two searches are not decided by ties.
    """
    import json

    from captioner.config import CaptionerConfig
    from captioner.data import make_synthetic, read_coco
    from captioner.training import train_captioner

    folder = tmp_path_factory.mktemp("serving_synthetic")
    captions = make_synthetic(folder, num_images=200, image_size=32, seed=0)
    config = CaptionerConfig(image_size=32, conv_filters=(8, 16), feature_dim=64, embedding_dim=16, units=48,
                             cell="gru", min_count=1, max_length=12, epochs=6, batch_size=16, learning_rate=3e-3,
                             patience=None)
    out = tmp_path_factory.mktemp("serving_model") / "shapes.keras"
    train_captioner(read_coco(captions, folder), config, out=out, verbose=0)
    images = json.loads(captions.read_text())["images"]
    test_images = [folder / image["file_name"] for image in images if image["split"] == "test"]
    return out, folder, test_images


@pytest.fixture(scope="session")
def loaded_captioner(trained_captioner):
    from captioner.api import Captioner

    return Captioner.load(trained_captioner[0])


@pytest.fixture(scope="session")
def flickr_photos(shared_data):
    """A few real Flickr8k photos (224 px JPEGs from the shared data folder)."""
    folder = Path(shared_data) / "flickr8k" / "images_224"
    photos = sorted(folder.glob("*.jpg"))[:12]
    if not photos:
        pytest.skip(f"no Flickr8k photos in {folder}")
    return photos


class GatedCaptioner:
    """A captioner whose calls wait until ``gate`` is set: holds the batching thread so a queue can fill."""

    def __init__(self, captioner):
        self.captioner = captioner
        self.model = captioner.model
        self.image_size = captioner.image_size
        self.gate = threading.Event()

    def caption(self, *args, **kwargs):
        if not self.gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")
        return self.captioner.caption(*args, **kwargs)


@contextmanager
def running_server(captioner, settings=None, model_name: str = "shapes.keras"):
    """A real uvicorn server on a free 127.0.0.1 port in a thread; yields ``.url`` and ``.batcher``."""
    import uvicorn

    from captioner.serving.app import create_app
    from captioner.serving.server import bind_socket, make_batcher, uvicorn_config
    from captioner.serving.settings import ServingSettings

    settings = settings or ServingSettings()
    batcher = make_batcher(captioner, settings)
    batcher.start()
    assert batcher.wait_until_ready(timeout=600), "the warm-up did not finish"
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(create_app(batcher, settings, model_name), settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{sock.getsockname()[1]}", batcher=batcher, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        batcher.stop()
        sock.close()


@pytest.fixture(scope="session")
def caption_server(loaded_captioner):
    """The server most tests talk to: the trained captioner, a 1 MiB upload limit (so the limit is cheap to hit);
    batches of at most 4 and beams of at most 4, so the warm-up traces few shapes (JAX compiles each)."""
    from captioner.serving.settings import ServingSettings

    with running_server(loaded_captioner, ServingSettings(max_upload_mb=1, max_batch=4, max_beam_size=4)) as server:
        yield server


@pytest.fixture(scope="session")
def strict_server(loaded_captioner):
    """A server with small bounds, for abuse: 2 s to send a request, 8 requests held at once, 2 MiB uploads."""
    from captioner.serving.settings import ServingSettings

    settings = ServingSettings(max_upload_mb=2, max_queue=4, max_batch=4, max_beam_size=4, request_timeout_s=2.0)
    with running_server(loaded_captioner, settings) as server:
        yield server


@pytest.fixture
def gated_captioner(loaded_captioner):
    gated = GatedCaptioner(loaded_captioner)
    yield gated
    gated.gate.set()


@pytest.fixture
def gated_server(gated_captioner):
    """A server whose batching thread is held at a gate, with room for 2 waiting photos, 1 per batch."""
    from captioner.serving.settings import ServingSettings

    with running_server(gated_captioner, ServingSettings(max_queue=2, max_batch=1, max_beam_size=3)) as server:
        server.gate = gated_captioner.gate
        try:
            yield server
        finally:
            gated_captioner.gate.set()


def png_header(width: int, height: int) -> bytes:
    """A small PNG that claims ``width`` x ``height`` RGB pixels: valid header chunks, a few bytes of pixel data.

    Opening it (reading the header) works; decoding it could not, so a refusal "too many pixels" proves that the
    size was checked before decoding.
    """
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def bad_uploads(trained_captioner):
    """``{name: (file name, bytes, declared type, expected HTTP status, expected code)}`` for each bad upload."""
    photo = trained_captioner[2][0].read_bytes()
    from io import BytesIO

    from PIL import Image

    jpeg = BytesIO()
    Image.open(trained_captioner[2][0]).convert("RGB").save(jpeg, format="JPEG", quality=90)
    return {
        "text renamed .jpg": ("notes.jpg", b"Shopping list: eggs, milk.\n" * 20, "image/jpeg", 400, "not_an_image"),
        "empty file": ("empty.jpg", b"", "image/jpeg", 400, "empty_file"),
        "truncated JPEG": ("cut.jpg", jpeg.getvalue()[: len(jpeg.getvalue()) // 2], "image/jpeg", 400,
                           "corrupt_image"),
        "100-megapixel image": ("huge.png", png_header(10_000, 10_000), "image/png", 413, "too_many_pixels"),
        "wrong content type": ("notes.txt", b"just text", "text/plain", 415, "unsupported_media_type"),
        "over the size limit": ("big.png", photo + b"\0" * (3 * 2**19), "image/png", 413, "upload_too_large"),
    }
