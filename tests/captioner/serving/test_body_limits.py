"""Request bodies bounded in time over a real socket: a client a byte a second gets 408, one that hangs up
mid-upload costs nothing; the server serves on after both. (The size limit: test_app.py.)"""

from __future__ import annotations

import json
import logging
import socket
import time

import httpx
import pytest
from raw_http import multipart_body, raw_request_head, read_response

pytestmark = pytest.mark.slow  # a real server over a socket, seconds-long uploads


def _connect(url: str) -> socket.socket:
    host, port = url.split("//")[1].split(":")
    assert host == "127.0.0.1"  # loopback only, ever
    return socket.create_connection((host, int(port)), timeout=10)


def _assert_serves(server, photo) -> None:
    response = httpx.post(f"{server.url}/caption", files={"image": (photo.name, photo.read_bytes(), "image/png")},
                          timeout=60)
    assert response.status_code == 200, response.text
    health = httpx.get(f"{server.url}/health", timeout=10)
    assert health.status_code == 200 and health.json()["requests"]["in_flight"] == 0


def _server_errors(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_body_sent_a_byte_a_second_is_cut_off_with_408(strict_server, trained_captioner, caplog):
    photo = trained_captioner[2][0]
    body, headers = multipart_body(files=[("image", photo.name, photo.read_bytes(), "image/png")])
    with _connect(strict_server.url) as sock:
        sock.sendall(raw_request_head(strict_server.url, headers))
        started = time.monotonic()
        sock.setblocking(False)
        answer = b""
        for byte in body:  # one byte every 0.25 s: the 2 s limit passes after about 8 of them
            try:
                sock.send(bytes([byte]))
            except OSError:
                break  # the server closed the connection after answering
            time.sleep(0.25)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                continue
            if b"\r\n\r\n" in answer:
                break
        elapsed = time.monotonic() - started
    status = int(answer.split()[1])
    payload = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert status == 408 and payload["code"] == "request_timeout" and "2 s" in payload["error"]
    assert b"connection: close" in answer.lower()
    assert 1.9 <= elapsed < 6
    _assert_serves(strict_server, photo)
    assert _server_errors(caplog) == []


def test_clients_that_hang_up_mid_upload_leave_no_trace(strict_server, trained_captioner, caplog):
    photo = trained_captioner[2][0]
    body, headers = multipart_body(files=[("image", photo.name, photo.read_bytes(), "image/png")])
    # More hang-ups than the server holds requests at once (8): a leaked slot would refuse the good request.
    for cut in range(12):
        with _connect(strict_server.url) as sock:
            sock.sendall(raw_request_head(strict_server.url, headers) + body[: len(body) * cut // 12])
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    while httpx.get(f"{strict_server.url}/health", timeout=10).json()["requests"]["in_flight"]:
        assert time.monotonic() < deadline, "hung-up requests are still held"
        time.sleep(0.05)
    _assert_serves(strict_server, photo)
    assert _server_errors(caplog) == []


def test_a_complete_request_sent_in_pieces_within_the_limit_is_served(strict_server, trained_captioner):
    photo = trained_captioner[2][0]
    body, headers = multipart_body(files=[("image", photo.name, photo.read_bytes(), "image/png")],
                                   fields=[("beam_size", "2")])
    with _connect(strict_server.url) as sock:
        sock.sendall(raw_request_head(strict_server.url, headers))
        for start in range(0, len(body), len(body) // 4 + 1):
            time.sleep(0.2)
            sock.sendall(body[start : start + len(body) // 4 + 1])
        status, _, payload = read_response(sock)
    assert status == 200 and json.loads(payload)["beam_size"] == 2
