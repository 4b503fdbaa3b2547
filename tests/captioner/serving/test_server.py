"""``captioner serve`` as its own process on 127.0.0.1: idle and slow connections cut off, SIGTERM with requests
in flight (they finish, new ones are refused, exit 0), a bounded shutdown, a restart, and worker processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from raw_http import multipart_body, raw_request_head, read_response

pytestmark = pytest.mark.slow  # real server processes, SIGTERM, workers


class ServerProcess:
    """``captioner serve MODEL --port PORT OPTIONS...`` started, and ready once its line is printed."""

    def __init__(self, model: Path, *options: str, port: int = 0):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "captioner.cli", "serve", str(model), "--port", str(port), *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.line = self.process.stdout.readline()
        if " at http://127.0.0.1:" not in self.line:
            self.process.kill()
            raise AssertionError(f"the server did not start: {self.line!r} {self.process.stderr.read()[-2000:]}")
        self.url = self.line.split(" at ")[1].split()[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return code, self.process.stderr.read()


@pytest.fixture
def photo_upload(trained_captioner):
    photo = trained_captioner[2][0]
    return multipart_body(files=[("image", photo.name, photo.read_bytes(), "image/png")], fields=[("beam_size", "2")])


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_sigterm_finishes_requests_in_flight_refuses_new_ones_and_a_restart_serves(trained_captioner, photo_upload):
    body, headers = photo_upload
    server = ServerProcess(trained_captioner[0], "--request-timeout-s", "2")
    try:
        # Connections that send nothing, or headers a byte at a time, are closed after the request timeout, and
        # two hundred of them do not stop a real request.
        idle = [server.connect() for _ in range(200)]
        dribbling = server.connect()
        dribbling.sendall(b"POST /caption HTTP/1.1\r\nHost: x\r\n")
        assert httpx.get(f"{server.url}/health", timeout=30).json()["status"] == "ok"
        assert all(_closed_by_server(sock, within=6) for sock in (dribbling, idle[0], idle[-1]))
        for sock in (*idle, dribbling):
            sock.close()

        # In flight at SIGTERM: the headers and half the body sent.
        in_flight = server.connect()
        in_flight.sendall(raw_request_head(server.url, headers) + body[: len(body) // 2])
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:  # the port closes at once
            try:
                server.connect().close()
            except ConnectionRefusedError:
                break
            assert time.monotonic() < deadline, "the port still accepts connections after SIGTERM"
            time.sleep(0.05)
        in_flight.sendall(body[len(body) // 2 :])
        status, _, answer = read_response(in_flight)
        in_flight.close()
        assert status == 200 and json.loads(answer)["captions"][0]["caption"]
        code, errors = server.stop()
        assert code == 0 and "server stopped" in errors and "Traceback" not in errors, errors
    finally:
        server.process.kill()

    restarted = ServerProcess(trained_captioner[0], port=server.port)
    try:
        response = httpx.post(f"{restarted.url}/caption", content=body, headers=headers, timeout=60)
        assert response.status_code == 200
    finally:
        assert restarted.stop()[0] == 0


def test_the_shutdown_waits_for_a_stalled_upload_no_longer_than_its_bound(trained_captioner, photo_upload):
    body, headers = photo_upload
    server = ServerProcess(trained_captioner[0], "--shutdown-timeout-s", "2")
    try:
        stalled = server.connect()
        stalled.sendall(raw_request_head(server.url, headers) + body[:100])  # and then nothing
        time.sleep(0.3)
        started = time.monotonic()
        code, errors = server.stop()
        assert code == 0 and "server stopped" in errors
        assert 1.8 < time.monotonic() - started < 15
        status, headers, answer = read_response(stalled)
        assert status == 503 and json.loads(answer)["code"] == "shutting_down" and headers["retry-after"] == "1"
        assert "Traceback" not in errors
        assert _closed_by_server(stalled, within=5)
        stalled.close()
    finally:
        server.process.kill()


def _children(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_worker_processes_each_load_the_model_and_serve_the_same_captions(trained_captioner, loaded_captioner):
    photos = trained_captioner[2][:6]
    server = ServerProcess(trained_captioner[0], "--workers", "2")
    try:
        assert "with 2 worker processes" in server.line
        workers = _children(server.process.pid)
        # uvicorn's spawn start method adds a resource tracker beside the two workers.
        assert len(workers) >= 2
        answers, pids = {}, set()

        def client(path):
            with httpx.Client(timeout=60) as session:
                for _ in range(3):
                    pids.add(session.get(f"{server.url}/health").json()["pid"])
                answers[path.name] = session.post(f"{server.url}/caption", files={
                    "image": (path.name, path.read_bytes(), "image/png")}).json()["captions"][0]["caption"]

        threads = [threading.Thread(target=client, args=(path,)) for path in photos]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert pids <= workers and server.process.pid not in pids
        assert answers == {path.name: loaded_captioner.caption(path, beam_size=3) for path in photos}
        code, errors = server.stop()
        assert code == 0 and "server stopped" in errors, errors
        assert not any(Path(f"/proc/{pid}").exists() and "captioner" in Path(f"/proc/{pid}/cmdline").read_text()
                       for pid in workers)
    finally:
        server.process.kill()


def test_workers_refuse_a_file_that_is_not_a_captioner_before_starting(tmp_path, capsys):
    from captioner.cli import main

    notes = tmp_path / "notes.keras"
    notes.write_text("not a model")
    assert main(["serve", str(notes), "--port", "0", "--workers", "2"]) == 2
    assert "not a .keras model" in capsys.readouterr().err
