"""The HTTP API over a real socket: captions equal the Python API's, batching, and every kind of bad request."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import time
import zlib
from collections import Counter

import httpx
import pytest
from PIL import Image
from raw_http import multipart_body

pytestmark = pytest.mark.all_backends


def _post(url, filename, data, content_type="image/jpeg", **fields):
    return httpx.post(f"{url}/caption", files={"image": (filename, data, content_type)},
                      data={key: str(value) for key, value in fields.items()}, timeout=60)


def _assert_same_candidates(served, expected):
    assert [c["caption"] for c in served] == [c["caption"] for c in expected]
    for got, want in zip(served, expected):
        # The same pixels through a differently sized encoder batch: equal up to float rounding.
        assert got["score"] == pytest.approx(want["score"], abs=1e-5)
        assert got["log_prob"] == pytest.approx(want["log_prob"], abs=1e-4)


def test_health_describes_the_model_and_the_limits(caption_server):
    health = httpx.get(f"{caption_server.url}/health").json()
    assert health["status"] == "ok" and health["model"] == "shapes.keras"
    assert health["image_size"] == [32, 32]
    assert health["limits"]["max_upload_bytes"] == 1024 * 1024


def test_captions_equal_the_python_api_for_the_same_files(caption_server, loaded_captioner, trained_captioner):
    for path in trained_captioner[2][:3]:
        response = _post(caption_server.url, path.name, path.read_bytes(), "image/png", beam_size=3, num_captions=3)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["beam_size"] == 3 and answer["image"] == {"filename": path.name, "width": 32, "height": 32,
                                                                  "format": "PNG"}
        expected = loaded_captioner.caption(path, beam_size=3, return_scores=True)
        _assert_same_candidates(answer["captions"], expected)
        assert answer["captions"][0]["caption"] == loaded_captioner.caption(path, beam_size=3)


def test_a_real_photo_is_captioned_like_the_python_api(caption_server, loaded_captioner, flickr_photos):
    photo = flickr_photos[0]
    answer = _post(caption_server.url, photo.name, photo.read_bytes(), beam_size=2, num_captions=2).json()
    assert (answer["image"]["width"], answer["image"]["format"]) == (224, "JPEG")
    _assert_same_candidates(answer["captions"], loaded_captioner.caption(photo, beam_size=2, return_scores=True))


def test_defaults_are_beam_3_and_one_caption_and_options_are_checked(caption_server, trained_captioner):
    data = trained_captioner[2][0].read_bytes()
    answer = _post(caption_server.url, "a.png", data, "image/png").json()
    assert answer["beam_size"] == 3 and len(answer["captions"]) == 1
    greedy = _post(caption_server.url, "a.png", data, "image/png", beam_size=1).json()
    assert greedy["beam_size"] == 1
    for fields, fragment in (({"beam_size": "wide"}, "whole number"), ({"beam_size": 0}, "between 1 and 4"),
                             ({"beam_size": 2, "num_captions": 3}, "num_captions must be between 1 and 2")):
        response = _post(caption_server.url, "a.png", data, "image/png", **fields)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_option" and fragment in response.json()["error"]


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(caption_server, loaded_captioner,
                                                                      trained_captioner):
    paths = trained_captioner[2][:8]
    expected = {path.name: loaded_captioner.caption(path, beam_size=3) for path in paths}
    batches_before = caption_server.batcher.stats.batches
    answers = {}
    start = threading.Barrier(len(paths))

    def client(path):
        start.wait()
        answers[path.name] = _post(caption_server.url, path.name, path.read_bytes(), "image/png").json()

    threads = [threading.Thread(target=client, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: answer["captions"][0]["caption"] for name, answer in answers.items()} == expected
    # Fewer batches than requests: some requests shared a batch.
    assert caption_server.batcher.stats.batches - batches_before < len(paths)


@pytest.mark.parametrize("name", ["text renamed .jpg", "empty file", "truncated JPEG", "100-megapixel image",
                                  "wrong content type", "over the size limit"])
def test_each_bad_upload_gets_a_clear_json_error_and_the_server_keeps_serving(caption_server, bad_uploads, name,
                                                                              trained_captioner):
    filename, data, content_type, status, code = bad_uploads[name]
    started = time.perf_counter()
    response = _post(caption_server.url, filename, data, content_type)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    message = response.json()["error"]
    assert len(message) > 20 and "Traceback" not in message
    if code != "upload_too_large":
        assert filename in message
    if code == "too_many_pixels":
        # Refused from the header: a PNG with no pixel data at all would otherwise fail as corrupt.
        assert "10000x10000" in message and time.perf_counter() - started < 5
    good = trained_captioner[2][0]
    assert _post(caption_server.url, good.name, good.read_bytes(), "image/png").status_code == 200


def test_a_body_over_the_limit_without_a_length_is_cut_off_as_it_streams(caption_server):
    def chunks():
        yield (b'--abc\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
               b"Content-Type: image/png\r\n\r\n")
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB in all, against a 1 MiB limit

    response = httpx.post(f"{caption_server.url}/caption", content=chunks(),
                          headers={"content-type": "multipart/form-data; boundary=abc"}, timeout=60)
    assert response.status_code == 413 and response.json()["code"] == "upload_too_large"


def test_a_request_that_is_not_a_form_upload_is_refused(caption_server):
    response = httpx.post(f"{caption_server.url}/caption", json={"image": "photo.jpg"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"] and "application/json" in response.json()["error"]
    missing = httpx.post(f"{caption_server.url}/caption", data={"beam_size": "3"}, files={"photo": ("a.png", b"x")})
    assert missing.status_code == 422 and missing.json()["code"] == "missing_image"
    assert httpx.get(f"{caption_server.url}/caption").json()["code"] == "method_not_allowed"
    assert httpx.get(f"{caption_server.url}/no/such/page").status_code == 404


def test_a_burst_beyond_the_queue_gets_503_with_retry_after_and_then_all_are_served(gated_server,
                                                                                    trained_captioner):
    data = trained_captioner[2][0].read_bytes()
    statuses = []

    def client():
        statuses.append(_post(gated_server.url, "a.png", data, "image/png").status_code)

    held = threading.Thread(target=client)
    held.start()
    _wait_for(lambda: gated_server.batcher.stats.batches == 1)  # the batching thread holds it, at the gate
    queued = [threading.Thread(target=client) for _ in range(2)]
    for thread in queued:
        thread.start()
    _wait_for(lambda: gated_server.batcher.waiting == 2)
    refused = _post(gated_server.url, "a.png", data, "image/png")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.json()["code"] == "queue_full" and "try again" in refused.json()["error"]
    gated_server.gate.set()
    for thread in (held, *queued):
        thread.join(timeout=60)
    assert statuses == [200, 200, 200]
    assert _post(gated_server.url, "a.png", data, "image/png").status_code == 200


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        time.sleep(0.01)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_two_hundred_simultaneous_requests_get_answers_or_503_with_retry_after(strict_server, trained_captioner):
    photo = trained_captioner[2][0].read_bytes()

    async def burst():
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=120) as client:
            return await asyncio.gather(*(client.post(f"{strict_server.url}/caption",
                                                      files={"image": ("a.png", photo, "image/png")})
                                          for _ in range(200)))

    started = time.monotonic()
    responses = asyncio.run(burst())
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {200, 503} and statuses[503] > 0 and statuses[200] >= 4, statuses
    for response in responses:
        if response.status_code == 503:
            assert response.headers["Retry-After"] == "1" and response.json()["code"] == "queue_full"
    assert time.monotonic() - started < 120
    health = httpx.get(f"{strict_server.url}/health").json()
    assert health["status"] == "ok" and health["requests"]["in_flight"] == 0
    assert _post(strict_server.url, "a.png", photo, "image/png").status_code == 200


def test_a_decompression_bomb_is_refused_before_decoding(strict_server, trained_captioner):
    width, height = 8000, 6000  # 48 megapixels of zeros, 48 kB compressed: a real, decodable PNG
    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + one grey row
    compressed = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", compressed) + chunk(b"IEND", b""))
    assert len(bomb) < 100_000 and Image.open(io.BytesIO(bomb)).size == (width, height)
    # A 1-pixel GIF on a 30000 x 30000 logical screen (900 megapixels; also over Pillow's own bomb limit).
    gif_screen = (b"GIF89a" + struct.pack("<HH", 30000, 30000) + b"\x00\x00\x00"
                  + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
    for name, data, kind in (("bomb.png", bomb, "image/png"), ("screen.gif", gif_screen, "image/gif")):
        started = time.perf_counter()
        response = _post(strict_server.url, name, data, kind)
        assert (response.status_code, response.json()["code"]) == (413, "too_many_pixels"), response.text
        assert time.perf_counter() - started < 2  # decoding 48 megapixels would take longer, and ~600 MB
    assert _post(strict_server.url, "a.png", trained_captioner[2][0].read_bytes(), "image/png").status_code == 200


def test_an_animated_gif_of_1000_frames_is_captioned_from_its_first_frame(strict_server, trained_captioner):
    first = Image.open(trained_captioner[2][0]).convert("RGB")
    colours = [(index % 256, index * 7 % 256, index // 4) for index in range(999)]
    frames = [first] + [Image.new("RGB", first.size, colour) for colour in colours]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=10)
    gif = buffer.getvalue()
    assert Image.open(io.BytesIO(gif)).n_frames == 1000
    started = time.perf_counter()
    animated = _post(strict_server.url, "movie.gif", gif, "image/gif", beam_size=2, num_captions=2)
    assert animated.status_code == 200 and time.perf_counter() - started < 10
    still = _post(strict_server.url, "frame.png", _png(Image.open(io.BytesIO(gif)).convert("RGB")), "image/png",
                  beam_size=2, num_captions=2)
    assert animated.json()["captions"] == still.json()["captions"]


def _raw_post(url, body: bytes, content_type: str) -> httpx.Response:
    return httpx.post(f"{url}/caption", content=body, headers={"content-type": content_type}, timeout=60)


def test_forms_the_api_cannot_use_are_refused_with_their_own_codes(strict_server, trained_captioner):
    photo = trained_captioner[2][0].read_bytes()
    fifty, headers = multipart_body(files=[("image", f"{index}.png", photo, "image/png") for index in range(50)])
    cases = {
        "50 files": (fifty, headers["content-type"], 422, "too_many_files"),
        "no boundary": (fifty, "multipart/form-data", 400, "malformed_form"),
        "a part without a name": (b'--b\r\nContent-Disposition: form-data; filename="a.png"\r\n\r\nxx\r\n--b--\r\n',
                                  "multipart/form-data; boundary=b", 400, "malformed_form"),
        "garbage after the boundary": (b"--b\r\n\x00\xff\xfe garbage without headers" * 50,
                                       "multipart/form-data; boundary=b", 400, "malformed_form"),
        "JSON": (b'{"image": "photo.jpg", "beam_size": 3}', "application/json", 415, "unsupported_media_type"),
        "a URL-encoded form": (b"image=photo.jpg", "application/x-www-form-urlencoded", 415,
                               "unsupported_media_type"),
        "nothing": (b"", "multipart/form-data; boundary=b", 422, "missing_image"),
    }
    for name, (body, content_type, status, code) in cases.items():
        response = _raw_post(strict_server.url, body, content_type)
        assert (response.status_code, response.json()["code"]) == (status, code), (name, response.text)
        assert "Traceback" not in response.text
    assert _post(strict_server.url, "a.png", photo, "image/png").status_code == 200


def test_absurd_options_are_refused_and_never_reach_the_model(strict_server, trained_captioner):
    photo = trained_captioner[2][0].read_bytes()
    batches = strict_server.batcher.stats.batches
    for fields in ({"beam_size": "1" + "0" * 30}, {"beam_size": "9" * 5000}, {"beam_size": "-3"},
                   {"beam_size": "1e9"}, {"beam_size": "inf"}, {"beam_size": "3", "num_captions": "1000000"},
                   {"num_captions": "0"}, {"beam_size": "２" * 3}, {"beam_size": "x" * 100_000}):
        response = _post(strict_server.url, "a.png", photo, "image/png", **fields)
        assert (response.status_code, response.json()["code"]) == (422, "invalid_option"), (fields, response.text)
        assert len(response.json()["error"]) < 300
    assert strict_server.batcher.stats.batches == batches
    assert _post(strict_server.url, "a.png", photo, "image/png", beam_size=4).status_code == 200
