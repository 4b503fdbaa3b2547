"""The caption server's FastAPI application: the web page, ``POST /caption`` and ``GET /health``.

``POST /caption`` takes ``multipart/form-data`` with the photo in the field ``image`` and, optionally,
``beam_size`` (default: the model's stored beam width) and ``num_captions`` (default 1, at most ``beam_size``);
every other decoding setting is the model's stored one. It answers::

    {"captions": [{"caption": "a dog runs on the grass", "score": -0.61, "log_prob": -4.02}, ...],
     "beam_size": 3, "image": {"filename": "dog.jpg", "width": 500, "height": 375, "format": "JPEG"},
     "elapsed_ms": 41.5}

Every refusal is ``{"error": "...", "code": "..."}`` (see `captioner.serving.http_errors`) with status 400 (not an
image, empty, corrupt), 413 (body or pixel count over the limit), 415 (not multipart, or a non-image type),
422 (bad options, no ``image`` field) or 503 with ``Retry-After`` (queue full). The page (``GET /``) posts to
the same endpoint and shows the same messages.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from captioner.api import Captioner
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> from captioner.serving.batcher import CaptionBatcher
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
    >>> batcher = CaptionBatcher(Captioner(model))
    >>> batcher.start()
    >>> client = TestClient(create_app(batcher, ServingSettings(), model_name="tiny.keras"))
    >>> client.get("/health").json()["status"]
    'ok'
    >>> response = client.post("/caption", files={"image": ("notes.jpg", b"not a photo", "image/jpeg")})
    >>> response.status_code, response.json()["code"]
    (400, 'not_an_image')
    >>> batcher.stop()
"""

from __future__ import annotations

import asyncio
import logging
import time
from importlib import resources

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from captioner.serving.batcher import CaptionBatcher, QueueFullError
from captioner.serving.body_limit import BodySizeLimit
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


def create_app(batcher: CaptionBatcher, settings: ServingSettings, model_name: str = "captioner") -> FastAPI:
    """The ASGI application serving ``batcher``'s captioner (already started) under ``settings``."""
    app = FastAPI(title="captioner", summary="Caption photos with a recurrent decoder.", docs_url=None,
                  redoc_url=None)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    decode_slots = anyio.CapacityLimiter(settings.decode_threads)
    height, width = batcher.captioner.image_size
    default_beam_size = batcher.captioner.model.decoding.beam_size
    page = _page_html()

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
        """The server is up: the model served, its input size, the limits and the batching counters."""
        stats = batcher.stats
        return {
            "status": "ok",
            "model": model_name,
            "image_size": [height, width],
            "vocabulary_size": len(batcher.captioner.model.text_encoder.vocabulary),
            "decoding": batcher.captioner.model.decoding_settings().get_config(),
            "limits": {"max_upload_bytes": settings.max_upload_bytes, "max_pixels": settings.max_pixels,
                       "max_beam_size": settings.max_beam_size, "max_queue": settings.max_queue,
                       "max_batch": settings.max_batch},
            "queue": {"waiting": batcher.waiting, "capacity": batcher.max_queue},
            "batches": {"count": stats.batches, "images": stats.images, "largest": stats.largest_batch},
        }

    @app.post("/caption", openapi_extra=_CAPTION_REQUEST_DOC)
    async def caption(request: Request):
        """Caption one uploaded photo: its best ``num_captions`` beam-search captions, best first."""
        started = time.perf_counter()
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ServingError(415, "unsupported_media_type",
                               "POST /caption takes multipart/form-data with the photo in the field 'image' (got "
                               f"{content_type.split(';')[0] or 'no content type'}).")
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise ServingError(422, "missing_image", "No file in the form field 'image'; attach the photo "
                                                         "there.")
            beam_size = _int_option(form, "beam_size", default_beam_size, 1, settings.max_beam_size)
            num_captions = _int_option(form, "num_captions", 1, 1, beam_size)
            data = await upload.read()
            filename, declared_type = upload.filename or "upload", upload.content_type
        if batcher.waiting >= batcher.max_queue:  # refuse before spending a decode on it
            raise _queue_full(settings)
        decoded = await anyio.to_thread.run_sync(
            lambda: read_upload(data, filename, declared_type, (height, width), settings.max_pixels),
            limiter=decode_slots)
        try:
            future = batcher.submit(decoded.pixels, beam_size, num_captions)
        except QueueFullError:
            raise _queue_full(settings) from None
        candidates = await asyncio.wrap_future(future)
        return {
            "captions": candidates,
            "beam_size": beam_size,
            "image": {"filename": filename, "width": decoded.width, "height": decoded.height,
                      "format": decoded.format},
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    return app


def _queue_full(settings: ServingSettings) -> ServingError:
    return ServingError(503, "queue_full",
                        f"The server is busy ({settings.max_queue} photos are already waiting); try again in "
                        f"{settings.retry_after_s} s.", headers={"Retry-After": str(settings.retry_after_s)})
