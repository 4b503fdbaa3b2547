"""``captioner serve [MODEL] [--host 127.0.0.1] [--port 8000] [--workers N]``: the web page and the HTTP API.

MODEL is a ``.keras`` file or a preset's name (default: the default preset). The model's stored decoding
settings apply, with the decoding flags overriding them; a request's ``beam_size`` overrides the beam width.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["serve", "model.keras", "--port", "8080"])
    >>> args.host, args.port, args.max_queue, args.workers
    ('127.0.0.1', 8080, 64, 1)
    >>> parser.parse_args(["serve", "--length-penalty", "0.5"]).model is None
    True
"""

from __future__ import annotations

from captioner.commands.common import add_decoding_overrides, decoding_overrides
from captioner.serving.settings import ServingSettings
from textmodels.commands import options

_DEFAULTS = ServingSettings()


def register(subparsers) -> None:
    """Adds ``serve``."""
    parser = subparsers.add_parser("serve", help="serve a web page and an HTTP API that caption uploaded photos")
    parser.add_argument("model", nargs="?", default=None, metavar="MODEL",
                        help="a .keras file or a preset's name (default: the default preset)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=options.non_negative_int, default=8000,
                        help="TCP port (default 8000; 0 picks a free one)")
    parser.add_argument("--max-upload-mb", type=options.positive_float, default=_DEFAULTS.max_upload_mb,
                        help="largest upload accepted, in MiB (bigger: HTTP 413)")
    parser.add_argument("--max-pixels", type=options.positive_int, default=_DEFAULTS.max_pixels,
                        help="largest image accepted, width x height (bigger: HTTP 413, refused before decoding)")
    parser.add_argument("--max-queue", type=options.positive_int, default=_DEFAULTS.max_queue,
                        help="photos that may wait for the model (more: HTTP 503 with Retry-After)")
    parser.add_argument("--max-batch", type=options.positive_int, default=_DEFAULTS.max_batch,
                        help="most photos captioned together")
    parser.add_argument("--max-wait-ms", type=options.non_negative_float, default=_DEFAULTS.max_wait_ms,
                        help="how long a batch waits for more photos after its first, in ms")
    parser.add_argument("--max-beam-size", type=options.positive_int, default=_DEFAULTS.max_beam_size,
                        help="widest beam a request may ask for (wider: HTTP 422); the warm-up prepares every "
                             "width up to it")
    parser.add_argument("--request-timeout-s", type=options.positive_float, default=_DEFAULTS.request_timeout_s,
                        help="seconds a client has for its request headers, and again for its body (slower: "
                             "HTTP 408, connection closed)")
    parser.add_argument("--shutdown-timeout-s", type=options.positive_float, default=_DEFAULTS.shutdown_timeout_s,
                        help="on SIGTERM or Ctrl+C, seconds to finish the requests in flight before cancelling them")
    parser.add_argument("--workers", type=options.positive_int, default=1,
                        help="worker processes, each with its own copy of the model (default 1; see "
                             "docs/serving.md for the throughput and memory of more)")
    add_decoding_overrides(parser)
    options.add_verbose_option(parser, help="log every request, and TensorFlow's own log lines")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Serves until interrupted."""
    from captioner.serving.server import serve

    settings = ServingSettings(max_upload_mb=args.max_upload_mb, max_pixels=args.max_pixels,
                               max_queue=args.max_queue, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                               max_beam_size=args.max_beam_size, request_timeout_s=args.request_timeout_s,
                               shutdown_timeout_s=args.shutdown_timeout_s)
    serve(args.model, host=args.host, port=args.port, settings=settings,
          log_level="info" if args.verbose else "warning", workers=args.workers, decoding=decoding_overrides(args))
    return 0
