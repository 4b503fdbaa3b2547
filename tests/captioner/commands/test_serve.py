"""``captioner serve``: a real server process, and the clear refusals before it starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import keras
import pytest

from captioner.cli import main

pytestmark = pytest.mark.all_backends


def test_serve_refuses_a_file_that_is_not_a_captioner(tmp_path, capsys):
    other = tmp_path / "classifier.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(other)
    notes = tmp_path / "notes.keras"
    notes.write_text("not a model")
    for path, reason in ((other, "not a captioner"), (notes, "not a .keras model"),
                         (tmp_path / "missing.keras", "no such model file")):
        assert main(["serve", str(path), "--port", "0"]) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: ") and str(path) in error and reason in error, error
        assert "Traceback" not in error


def test_serve_says_so_when_the_port_is_taken(trained_captioner, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.perf_counter()
        assert main(["serve", str(trained_captioner[0]), "--port", str(port)]) == 2
    error = capsys.readouterr().err
    assert f"Port {port} on 127.0.0.1 is already in use" in error and "--port" in error
    assert time.perf_counter() - started < 5  # found before the model is loaded


def test_serve_refuses_settings_that_cannot_work(trained_captioner, capsys):
    assert main(["serve", str(trained_captioner[0]), "--max-queue", "0"]) == 2
    assert "--max-queue: must be a positive integer, got 0" in capsys.readouterr().err


@pytest.mark.slow
def test_the_serve_command_serves_on_localhost_and_stops_cleanly(trained_captioner):
    model, _, photos = trained_captioner
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    # Few batch shapes to warm up (JAX compiles each one before the server says it is ready).
    process = subprocess.Popen([sys.executable, "-m", "captioner.cli", "serve", str(model), "--port", "0",
                                "--max-batch", "4", "--max-beam-size", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving shapes.keras at http://127.0.0.1:"), line + process.stderr.read()
        url = line.split(" at ")[1].split()[0]
        assert httpx.get(f"{url}/health", timeout=30).json()["status"] == "ok"
        answer = httpx.post(f"{url}/caption", files={"image": (photos[0].name, photos[0].read_bytes(), "image/png")},
                            timeout=60).json()
        assert isinstance(answer["captions"][0]["caption"], str) and answer["captions"][0]["caption"]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    assert code == 130  # the command's exit code for Ctrl+C, after a graceful shutdown
    assert "server stopped" in process.stderr.read()
