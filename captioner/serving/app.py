"""The caption server's FastAPI application: the web page, ``POST /caption`` and ``GET /health``.

``POST /caption`` takes ``multipart/form-data`` with the photo in the field ``image`` and, optionally,
``beam_size`` (default: the model's stored beam width) and ``num_captions`` (default 1, at most ``beam_size``);
every other decoding setting is the model's stored one. It answers::

    {"captions": [{"caption": "a dog runs on the grass", "score": -0.61, "log_prob": -4.02}, ...],
     "beam_size": 3, "image": {"filename": "dog.jpg", "width": 500, "height": 375, "format": "JPEG"},
     "elapsed_ms": 41.5}

Every refusal is ``{"error": "...", "code": "..."}`` (see `captioner.serving.http_errors`) with status 400 (not an
image, empty, corrupt, a form that cannot be parsed), 408 (the body did not arrive in time), 413 (body or pixel
count over the limit), 415 (not multipart, or a non-image type), 422 (bad options, no ``image`` field, more than
one file) or 503 with ``Retry-After`` (the server is full, or still warming up). ``GET /health`` answers 200 with
``"status": "ok"`` once the warm-up has traced every batch shape, 503 with ``"warming_up"`` before. The page
(``GET /``) posts to the same endpoint and shows the same messages.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from captioner.api import Captioner
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> from captioner.serving.batcher import CaptionBatcher
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
    >>> batcher = CaptionBatcher(Captioner(model), max_batch=2, max_beam_size=3)
    >>> batcher.start()
    >>> batcher.wait_until_ready(timeout=60)
    True
    >>> client = TestClient(create_app(batcher, ServingSettings(max_beam_size=3), model_name="tiny.keras"))
    >>> client.get("/health").json()["status"]
    'ok'
    >>> response = client.post("/caption", files={"image": ("notes.jpg", b"not a photo", "image/jpeg")})
    >>> response.status_code, response.json()["code"]
    (400, 'not_an_image')
    >>> batcher.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from contextlib import asynccontextmanager
from importlib import resources

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from captioner.serving.batcher import CaptionBatcher, QueueFullError
from captioner.serving.body_limits import BodyLimits
from captioner.serving.http_errors import ServingError, error_json
from captioner.serving.settings import ServingSettings
from captioner.serving.uploads import read_upload

logger = logging.getLogger(__name__)

_CAPTION_REQUEST_DOC = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string", "format": "binary", "description": "the photo (JPEG, PNG, ...)"},
                "beam_size": {"type": "integer", "minimum": 1,
                              "description": "1 = greedy; default: the model's stored beam width"},
                "num_captions": {"type": "integer", "default": 1, "minimum": 1,
                                 "description": "best captions to return, at most beam_size"},
            },
        }}},
    }
}

# The status nginx logs for a client that closed its connection before the answer; nobody receives it.
_CLIENT_CLOSED_REQUEST = 499


def _page_html() -> str:
    return resources.files("captioner.serving").joinpath("page.html").read_text(encoding="utf-8")


def _int_option(form, name: str, default: int, low: int, high: int) -> int:
    raw = form.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ServingError(422, "invalid_option", f"{name} must be a whole number, got {str(raw)[:40]!r}.") from None
    if not low <= value <= high:
        raise ServingError(422, "invalid_option", f"{name} must be between {low} and {high}, got {value}.")
    return value


def _form_error(detail: str) -> ServingError:
    """Starlette's refusal of a multipart body (a 400 with its parser's message) as the server's own error."""
    if detail.startswith("Too many files"):
        return ServingError(422, "too_many_files", "POST /caption takes one photo per request, in the field "
                                                   "'image'; this form holds more than one file.")
    if detail.startswith("Too many fields"):
        return ServingError(422, "too_many_fields", "The form has more fields than POST /caption reads (image, "
                                                    f"beam_size, num_captions): {detail}")
    return ServingError(400, "malformed_form", f"The multipart/form-data body cannot be read: {detail}")


class _AnswerWhenStopping:
    """ASGI middleware: a request still unanswered when a stop's grace period ends is cancelled by uvicorn, which
    would answer 500; it gets 503 ``shutting_down`` instead, and its connection is closed."""

    def __init__(self, app, retry_after_s: int):
        self.app = app
        self.retry_after_s = retry_after_s

    async def __call__(self, scope, receive, send):
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if scope["type"] != "http" or started:
                raise
            error = ServingError(503, "shutting_down", "The server stopped before this request was done; send it "
                                                       f"again in {self.retry_after_s} s (to it or another server).")
            body = json.dumps(error_json(error)).encode()
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(self.retry_after_s).encode()), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            # Not re-raised: the cancellation only asked this request to end, and it has, with an answer.


def create_app(batcher: CaptionBatcher, settings: ServingSettings, model_name: str = "captioner") -> FastAPI:
    """The ASGI application serving ``batcher``'s captioner (already started) under ``settings``.

    The application's shutdown (after the requests in flight are done) stops the batcher.
    """

    @asynccontextmanager
    async def lifespan(app):
        yield
        await anyio.to_thread.run_sync(batcher.stop)

    app = FastAPI(title="captioner", summary="Caption photos with a recurrent decoder.", docs_url=None,
                  redoc_url=None, lifespan=lifespan)
    app.add_middleware(BodyLimits, max_bytes=settings.max_upload_bytes, timeout_s=settings.request_timeout_s)
    app.add_middleware(_AnswerWhenStopping, retry_after_s=settings.retry_after_s)
    decode_slots = anyio.CapacityLimiter(settings.decode_threads)
    height, width = batcher.captioner.image_size
    default_beam_size = batcher.captioner.model.decoding.beam_size
    page = _page_html()
    # Requests admitted and not yet answered; only the event loop's thread touches it.
    in_flight = 0

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        if not isinstance(error, ServingError):
            code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
            error = ServingError(error.status_code, code, str(error.detail), error.headers)
        return JSONResponse(error_json(error), status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        message = "; ".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors())
        return JSONResponse({"error": message, "code": "invalid_request"}, status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, error: ClientDisconnect):
        logger.info("a client closed its connection before its request had arrived")
        return Response(status_code=_CLIENT_CLOSED_REQUEST)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception):
        logger.exception("captioning failed")
        return JSONResponse({"error": f"The server failed on this request ({type(error).__name__}); it is still "
                                      "running, try again or report the error.", "code": "internal_error"},
                            status_code=500)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return page

    @app.get("/health")
    async def health():
        """Ready (200, ``"status": "ok"``) once warmed up, else 503 (``"warming_up"`` or ``"failed"``): the model
        served, its input size, the limits, the warm-up and the batching counters."""
        stats = batcher.stats
        ready = batcher.ready.is_set()
        status = "ok" if ready else ("failed" if batcher.warm_up_error else "warming_up")
        body = {
            "status": status,
            "model": model_name,
            "pid": os.getpid(),
            "image_size": [height, width],
            "vocabulary_size": len(batcher.captioner.model.text_encoder.vocabulary),
            "decoding": batcher.captioner.model.decoding_settings().get_config(),
            "limits": {"max_upload_bytes": settings.max_upload_bytes, "max_pixels": settings.max_pixels,
                       "max_beam_size": settings.max_beam_size, "max_queue": settings.max_queue,
                       "max_batch": settings.max_batch, "max_requests": settings.max_requests,
                       "request_timeout_s": settings.request_timeout_s},
            "warm_up": {"batch_sizes": list(batcher.batch_sizes), "max_beam_size": batcher.max_beam_size,
                        "seconds": None if batcher.warm_up_seconds is None else round(batcher.warm_up_seconds, 2),
                        "error": batcher.warm_up_error},
            "requests": {"in_flight": in_flight, "capacity": settings.max_requests},
            "queue": {"waiting": batcher.waiting, "capacity": batcher.max_queue},
            "batches": {"count": stats.batches, "images": stats.images, "largest": stats.largest_batch,
                        "padding": stats.padding},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.post("/caption", openapi_extra=_CAPTION_REQUEST_DOC)
    async def caption(request: Request):
        """Caption one uploaded photo: its best ``num_captions`` beam-search captions, best first."""
        nonlocal in_flight
        started = time.perf_counter()
        if not batcher.ready.is_set():
            raise _not_ready(batcher, settings)
        if in_flight >= settings.max_requests:  # refused before its body is read: a burst costs nothing
            raise _server_full(settings, f"{settings.max_requests} requests are already being served")
        in_flight += 1
        try:
            return await _caption(request, started)
        finally:
            in_flight -= 1

    async def _caption(request: Request, started: float) -> dict:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ServingError(415, "unsupported_media_type",
                               "POST /caption takes multipart/form-data with the photo in the field 'image' (got "
                               f"{content_type.split(';')[0] or 'no content type'}).")
        try:
            form = await request.form(max_files=1, max_fields=8)
        except HTTPException as error:
            if isinstance(error, ServingError):
                raise
            raise _form_error(str(error.detail)) from None
        try:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise ServingError(422, "missing_image", "No file in the form field 'image'; attach the photo "
                                                         "there.")
            beam_size = _int_option(form, "beam_size", default_beam_size, 1, settings.max_beam_size)
            num_captions = _int_option(form, "num_captions", 1, 1, beam_size)
            data = await upload.read()
            filename, declared_type = upload.filename or "upload", upload.content_type
        finally:
            await form.close()
        if batcher.waiting >= batcher.max_queue:  # refuse before spending a decode on it
            raise _server_full(settings, f"{settings.max_queue} photos are already waiting")
        decoded = await anyio.to_thread.run_sync(
            lambda: read_upload(data, filename, declared_type, (height, width), settings.max_pixels),
            limiter=decode_slots)
        try:
            future = batcher.submit(decoded.pixels, beam_size, num_captions)
        except QueueFullError:
            raise _server_full(settings, f"{settings.max_queue} photos are already waiting") from None
        candidates = await asyncio.wrap_future(future)
        return {
            "captions": candidates,
            "beam_size": beam_size,
            "image": {"filename": filename, "width": decoded.width, "height": decoded.height,
                      "format": decoded.format},
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    return app


def _server_full(settings: ServingSettings, reason: str) -> ServingError:
    return ServingError(503, "queue_full", f"The server is busy ({reason}); try again in {settings.retry_after_s} s.",
                        headers={"Retry-After": str(settings.retry_after_s)})


def _not_ready(batcher: CaptionBatcher, settings: ServingSettings) -> ServingError:
    if batcher.warm_up_error is not None:
        return ServingError(503, "not_ready", f"The server could not prepare its model: {batcher.warm_up_error}")
    return ServingError(503, "warming_up", "The server is warming up (preparing the model for every batch size); "
                                           f"try again in {settings.retry_after_s} s.",
                        headers={"Retry-After": str(settings.retry_after_s)})
