"""Run the caption server: bind the port, load the model once, start the batching thread, serve with uvicorn.

The port is bound first, so that "already in use" is reported at once and clearly, and then handed to uvicorn
as an open socket (``port=0`` picks a free one; the address printed says which). A file that is not a
captioner stops the server before it starts, with the reason (`captioner.api.CaptionerLoadError`).

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
import socket
import sys
from pathlib import Path

from captioner.serving.settings import ServingSettings


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
        sock.listen(128)
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


def serve(
    model_path: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServingSettings | None = None,
    log_level: str = "warning",
    decoding: dict | None = None,
) -> None:
    """Serve ``model_path`` (a ``.keras`` file or a preset's name; None: the default preset) on
    ``http://host:port`` until interrupted (Ctrl+C or SIGTERM), decoding with the model's stored settings
    overridden by ``decoding`` (``{setting: value}``).

    The model is loaded and warmed up (traced) before the port answers, so no request waits for tracing.

    Requests in flight are finished first (for up to 5 s); uvicorn then re-raises the signal, so Ctrl+C ends in
    ``KeyboardInterrupt`` (the command's exit code 130).
    """
    settings = settings or ServingSettings()
    sock = bind_socket(host, port)
    try:
        import uvicorn

        from captioner.api import Captioner
        from captioner.presets import DEFAULT_PRESET
        from captioner.serving.app import create_app
        from captioner.serving.batcher import CaptionBatcher

        model_path = DEFAULT_PRESET if model_path is None else model_path
        captioner = Captioner.from_preset(model_path)
        captioner.model.decoding = captioner.model.decoding.replace(**(decoding or {}))
        batcher = CaptionBatcher(captioner, max_batch=settings.max_batch, max_wait_s=settings.max_wait_ms / 1000,
                                 max_queue=settings.max_queue)
        batcher.start()
        try:
            app = create_app(batcher, settings, model_name=Path(model_path).name)
            bound_host, bound_port = sock.getsockname()[:2]
            shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
            print(f"serving {Path(model_path).name} at http://{shown_host}:{bound_port} (Ctrl+C to stop)", flush=True)
            config = uvicorn.Config(app, log_level=log_level, access_log=log_level in ("info", "debug"),
                                    timeout_graceful_shutdown=5)
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            batcher.stop()
            print("server stopped", file=sys.stderr)
    finally:
        sock.close()
