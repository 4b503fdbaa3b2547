"""An uploaded file to the captioner's input pixels, with a clear `ServingError` for every kind of bad upload.

The bytes are opened with Pillow and then go through `captioner.data.images.load_image`, exactly as
``Captioner.caption("photo.jpg")`` reads a file (a large JPEG decoded at a reduced scale, EXIF orientation,
grayscale, palette and transparent images, the same resize), so the server's captions equal the Python API's
for the same file.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (30, 20), (0, 128, 255)).save(buffer, format="PNG")
    >>> upload = read_upload(buffer.getvalue(), "blue.png", "image/png", size=(16, 16), max_pixels=10_000)
    >>> upload.pixels.shape, upload.width, upload.height, upload.format
    ((16, 16, 3), 30, 20, 'PNG')
    >>> try:
    ...     read_upload(b"hello", "notes.jpg", "image/jpeg", size=(16, 16), max_pixels=10_000)
    ... except ServingError as error:
    ...     error.status_code, error.code
    (400, 'not_an_image')
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from captioner.data.images import ImageLoadError, draft_for_size, load_image
from captioner.serving.http_errors import ServingError

# Declared types a browser or client may send for an image file (octet-stream: a client that does not know).
_ACCEPTED_TYPES = ("image/", "application/octet-stream")


@dataclass(frozen=True)
class DecodedUpload:
    """The model-sized pixels of an upload ((H, W, 3) float32 in 0..255) and what the file was."""

    pixels: np.ndarray
    width: int
    height: int
    format: str


def read_upload(data: bytes, filename: str, content_type: str | None, size: tuple[int, int],
                max_pixels: int) -> DecodedUpload:
    """Decode the uploaded ``data`` (named ``filename``, declared as ``content_type``) to ``size`` pixels.

    Raises `ServingError`: 415 for a declared type that is not an image, 400 for an empty, unreadable or
    truncated file, 413 for an image over ``max_pixels`` (from its header, before decoding).
    """
    name = repr(filename or "the upload")
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared and not declared.startswith(_ACCEPTED_TYPES):
        raise ServingError(415, "unsupported_media_type",
                           f"{name} was sent as {declared}, not as an image; upload a JPEG, PNG, GIF, BMP or WebP "
                           "photo.")
    if not data:
        raise ServingError(400, "empty_file", f"{name} is empty (0 bytes); choose a photo to upload.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own bomb limit; max_pixels is enforced here instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ServingError(400, "not_an_image",
                           f"{name} is not an image file (its contents are not JPEG, PNG, GIF, BMP, WebP or TIFF)."
                           ) from None
    except Image.DecompressionBombError:
        # Pillow's own limit, far above max_pixels, met while reading the header (a GIF's logical screen).
        raise ServingError(413, "too_many_pixels", f"{name} claims more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} "
                                                   f"megapixels, over the limit of {max_pixels / 1e6:.1f}; scale it "
                                                   "down and upload it again.") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ServingError(400, "corrupt_image", f"{name} cannot be read as an image: {error}.") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ServingError(413, "too_many_pixels",
                               f"{name} is {width}x{height} = {width * height / 1e6:.1f} megapixels, over the limit "
                               f"of {max_pixels / 1e6:.1f}; scale it down and upload it again.")
        try:
            draft_for_size(image, size)
            image.load()
        except (OSError, SyntaxError, ValueError) as error:
            # Truncated files end up here ("image file is truncated").
            raise ServingError(400, "corrupt_image", f"{name} cannot be decoded: {error}.") from None
        try:
            pixels = load_image(image, size=size, max_pixels=max_pixels)
        except ImageLoadError as error:
            raise ServingError(400, "corrupt_image", f"{name} cannot be decoded: {error}.") from None
        return DecodedUpload(pixels, width, height, image.format or "unknown")
