"""Run the caption server: bind the port, load the model, warm it up, serve with uvicorn, stop gracefully.

The port is bound first, so that "already in use" is reported at once and clearly, and then handed to uvicorn
as an open socket (``port=0`` picks a free one). The model is loaded once per process and warmed up (every batch
shape traced, `captioner.serving.batcher`); the line ``serving MODEL at http://HOST:PORT`` is printed when the
server is ready, and ``GET /health`` answers 503 until then. A file that is not a captioner stops the server
before it starts, with the reason (`captioner.api.CaptionerLoadError`).

``workers=N`` runs N worker processes (uvicorn's supervisor, restarting any that dies), each loading the model
once and sharing the one listening socket; the line is printed when all N are warm.

Stopping (SIGTERM, or Ctrl+C): the port is closed at once, so new connections are refused; the requests in
flight are finished (for up to ``ServingSettings.shutdown_timeout_s``, then cancelled), the batching thread is
stopped, and ``server stopped`` is printed. SIGTERM then ends the process with exit code 0, Ctrl+C with
``KeyboardInterrupt`` (the command's 130).

A connection must send its request headers within ``ServingSettings.request_timeout_s`` (uvicorn only times out
idle connections after a first request) and its body within as long again (`captioner.serving.body_limits`).

Example:
    >>> sock = bind_socket("127.0.0.1", 0)
    >>> try:
    ...     bind_socket("127.0.0.1", sock.getsockname()[1])
    ... except OSError as error:
    ...     "already in use" in str(error)
    True
    >>> sock.close()
"""

from __future__ import annotations

import errno
import functools
import signal
import socket
import sys
import threading
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors.multiprocess import Multiprocess

from captioner.errors import CaptionerError
from captioner.presets import DEFAULT_PRESET, resolve_preset
from captioner.serving.settings import ServingSettings

# Connections waiting to be accepted: a burst of a few hundred clients is queued by the kernel, not dropped.
LISTEN_BACKLOG = 1024


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; an `OSError` that says what to do when that is not possible."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise OSError(f"Cannot listen on host {host!r}: {error.strerror}; use an address such as 127.0.0.1.") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise OSError(f"Port {port} on {host} is already in use (another server is running there); stop it "
                          "or choose another port with --port.") from None
        if error.errno == errno.EACCES:
            raise OSError(f"No permission to listen on port {port} of {host}; ports below 1024 need root, "
                          "choose another with --port.") from None
        raise OSError(f"Cannot listen on {host}:{port}: {error.strerror}.") from None
    sock.set_inheritable(True)
    return sock


class _HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection that has not sent a request's complete headers within
    ``header_timeout_s`` of connecting (or of its previous answer). uvicorn's own idle timer only runs after a
    first answer and stops at any byte, so a client that connects and sends nothing, or headers a byte at a
    time, would hold its connection for ever."""

    def __init__(self, *args, header_timeout_s: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s
        self._header_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._start_header_timer(None)

    def on_response_complete(self) -> None:
        finished = self.cycle
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_header_timer(finished)

    def connection_lost(self, exc) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _start_header_timer(self, finished_cycle) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._close_without_request, finished_cycle)

    def _close_without_request(self, finished_cycle) -> None:
        self._header_timer = None
        if self.cycle is finished_cycle:  # no new request has begun since: close as uvicorn closes idle ones
            self.timeout_keep_alive_handler()


class _Terminated(Exception):
    """SIGTERM arrived: uvicorn has shut down gracefully and re-raised the signal to us."""


class _Interrupted(Exception):
    """Ctrl+C arrived: uvicorn has shut down gracefully and re-raised the signal to us."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def _raise_interrupted(signum, frame):
    # Our own handler rather than Python's default: asyncio.run would otherwise install its own, which turns the
    # signal uvicorn re-raises into a cancellation or nothing, depending on timing; this way Ctrl+C always ends
    # in KeyboardInterrupt (the command's 130) once the server has stopped.
    raise _Interrupted()


def uvicorn_config(app, settings: ServingSettings, log_level: str = "warning", workers: int = 1) -> uvicorn.Config:
    """The uvicorn configuration of the caption server: the header timeout, the graceful-shutdown bound, quiet
    logs; with ``workers`` > 1, ``app`` is a picklable factory that each worker calls.

    Example:
        >>> config = uvicorn_config(None, ServingSettings(shutdown_timeout_s=5.0))
        >>> config.timeout_graceful_shutdown, config.http.keywords
        (5.0, {'header_timeout_s': 60.0})
    """
    return uvicorn.Config(
        app, factory=workers > 1, workers=workers, log_level=log_level,
        access_log=log_level in ("info", "debug"),
        http=functools.partial(_HeaderTimeoutProtocol, header_timeout_s=settings.request_timeout_s),
        timeout_graceful_shutdown=settings.shutdown_timeout_s)


def make_batcher(captioner, settings: ServingSettings):
    """The `captioner.serving.batcher.CaptionBatcher` for ``captioner`` under ``settings`` (not yet started).

    Example:
        >>> from captioner.api import Captioner
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> make_batcher(Captioner(model), ServingSettings(max_batch=6)).batch_sizes
        (1, 2, 3, 4, 6)
    """
    from captioner.serving.batcher import CaptionBatcher

    return CaptionBatcher(captioner, max_batch=settings.max_batch, max_wait_s=settings.max_wait_ms / 1000,
                          max_queue=settings.max_queue, max_beam_size=settings.max_beam_size)


def serve(
    model_path: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServingSettings | None = None,
    log_level: str = "warning",
    workers: int = 1,
    decoding: dict | None = None,
) -> None:
    """Serve ``model_path`` (a ``.keras`` file or a preset's name; None: the default preset) on
    ``http://host:port`` with ``workers`` processes until SIGTERM or Ctrl+C, decoding with the model's stored
    settings overridden by ``decoding`` (``{setting: value}``). Each process loads the model and warms it up
    (traces every batch shape) before it answers, so no request waits for tracing.

    `CaptionerError` when the warm-up fails (the server then stops) or a worker cannot start.
    """
    settings = settings or ServingSettings()
    if int(workers) < 1:
        raise CaptionerError(f"workers must be at least 1, got {workers}.")
    sock = bind_socket(host, port)
    handlers = {signal.SIGTERM: _raise_terminated, signal.SIGINT: _raise_interrupted}
    previous = {number: signal.getsignal(number) for number in handlers}
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    try:
        bound_host, bound_port = sock.getsockname()[:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        url = f"http://{shown_host}:{bound_port}"
        # A preset's file is located (and its digest checked) once, here; the page names what the user named.
        name = Path(DEFAULT_PRESET if model_path is None else model_path).name
        model_path = resolve_preset(DEFAULT_PRESET if model_path is None else model_path)
        if workers == 1:
            _serve_here(model_path, name, sock, url, settings, log_level, decoding or {})
        else:
            _serve_with_workers(model_path, name, sock, url, settings, log_level, int(workers), decoding or {})
    except _Terminated:
        pass
    except _Interrupted:
        raise KeyboardInterrupt from None
    finally:
        sock.close()
        if in_main_thread:
            for number, handler in previous.items():
                signal.signal(number, handler)


def _load_captioner(model_path, decoding: dict):
    from captioner.api import Captioner

    captioner = Captioner.load(model_path)
    captioner.model.decoding = captioner.model.decoding.replace(**decoding)
    return captioner


def _serve_here(model_path, name: str, sock: socket.socket, url: str, settings: ServingSettings, log_level: str,
                decoding: dict) -> None:
    from captioner.serving.app import create_app

    batcher = make_batcher(_load_captioner(model_path, decoding), settings)
    batcher.start()
    try:
        server = uvicorn.Server(uvicorn_config(create_app(batcher, settings, model_name=name), settings, log_level))
        threading.Thread(target=_announce_when_ready, args=(batcher, server, f"serving {name} at {url}"),
                         name="announce-ready", daemon=True).start()
        server.run(sockets=[sock])
    finally:
        batcher.stop()
        print("server stopped", file=sys.stderr, flush=True)
    if batcher.warm_up_error is not None:
        raise CaptionerError(f"The server stopped: the model could not be warmed up ({batcher.warm_up_error}).")


def _announce_when_ready(batcher, server: uvicorn.Server, line: str) -> None:
    try:
        batcher.wait_until_ready()
    except RuntimeError:
        server.should_exit = True  # `_serve_here` reports the reason once uvicorn has stopped
        return
    print(f"{line} (Ctrl+C to stop)", flush=True)


def _serve_with_workers(model_path, name: str, sock: socket.socket, url: str, settings: ServingSettings,
                        log_level: str, workers: int, decoding: dict) -> None:
    _check_captioner_file(model_path)
    factory = functools.partial(_worker_app, str(model_path), settings, name, decoding)
    supervisor = _Supervisor(uvicorn_config(factory, settings, log_level, workers), [sock],
                             f"serving {name} at {url} with {workers} worker processes (Ctrl+C to stop)")
    try:
        supervisor.run()
    finally:
        print("server stopped", file=sys.stderr, flush=True)
    if supervisor.failure is not None:
        raise CaptionerError(supervisor.failure)


def _check_captioner_file(model_path) -> None:
    """Refuse a file that is not a captioner here, once, before any worker loads it."""
    import keras

    from captioner.api import CaptionerLoadError
    from captioner.model import CaptionModel
    from textmodels.saving import saved_class_name

    stored = saved_class_name(model_path, CaptionerLoadError)
    if stored != keras.saving.get_registered_name(CaptionModel):
        raise CaptionerLoadError(f"{model_path}: holds a {stored.split('>')[-1]} model, not a captioner "
                                 "(CaptionModel)")


def _worker_app(model_path: str, settings: ServingSettings, model_name: str, decoding: dict):
    """In each worker process: load the model, warm it up, and only then hand uvicorn the application (so the
    worker accepts no connection while cold)."""
    from captioner.serving.app import create_app

    try:
        batcher = make_batcher(_load_captioner(model_path, decoding), settings)
        batcher.start()
        batcher.wait_until_ready()
    except (CaptionerError, OSError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILURE)
    return create_app(batcher, settings, model_name=model_name)


class _Supervisor(Multiprocess):
    """uvicorn's worker supervisor, which also says when every worker is warm, stops when one cannot start, and
    closes its own copy of the listening socket first on shutdown (so new connections are refused as soon as the
    workers stop accepting)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], ready_line: str):
        super().__init__(config, sockets)
        self.ready_line = ready_line
        self.failure: str | None = None

    def run(self) -> None:
        self.init_processes()
        starting = list(self.processes)
        while not self.should_exit.wait(0.5):
            self.handle_signals()
            if starting:
                starting = self._still_starting(starting)
            else:
                self.keep_subprocess_alive()
        self.terminate_all()
        self.join_all()

    def _still_starting(self, starting: list) -> list:
        for process in starting:
            if not process.process.is_alive():
                self.failure = f"A worker process could not start (exit code {process.exitcode}); see above."
                self.should_exit.set()
                return []
        starting = [process for process in starting if not process.is_ready(timeout=1)]
        if not starting:
            print(self.ready_line, flush=True)
        return starting

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()
