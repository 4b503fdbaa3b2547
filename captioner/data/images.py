"""Load any image (file, PIL image or array) as a float32 RGB array of a fixed size, robustly.

Real photo collections contain rotated phone pictures (EXIF orientation), grayscale, palette, CMYK, 16-bit and
transparent images, and now and then a truncated, empty or mislabelled file. `load_image` turns all valid inputs
into the same (height, width, 3) float32 array in 0..255 and every bad one into an `ImageLoadError` naming it;
`load_images` loads a batch and reports the bad items instead of failing the whole batch.

Example:
    >>> import numpy as np
    >>> array = load_image(np.zeros((10, 20), dtype=np.uint8), size=(8, 8))
    >>> array.shape, array.dtype
    ((8, 8, 3), dtype('float32'))
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from captioner.errors import CaptionerError

DEFAULT_MAX_PIXELS = 64_000_000
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TRANSPARENT_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


class ImageLoadError(CaptionerError, ValueError):
    """An image could not be loaded; the message names the file (or describes the array)."""


def _describe(source: object) -> str:
    if isinstance(source, (str, Path)):
        return f"image file {str(source)!r}"
    if isinstance(source, np.ndarray):
        return f"array of shape {source.shape} and dtype {source.dtype}"
    if isinstance(source, Image.Image):
        return f"PIL image (mode {source.mode}, size {source.size})"
    return f"object of type {type(source).__name__}"


def draft_for_size(image: Image.Image, size: tuple[int, int]) -> None:
    """Before ``image`` is loaded: let a JPEG decode at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) while it
    stays at least twice ``size`` on both sides; other images are left alone.

    A 12-megapixel phone photo then decodes several times faster in a sixteenth of the memory, and the
    antialiased resize that follows still has twice the pixels it keeps. The exported SavedModel decodes at the
    same scale by the same rule (`captioner.export.graph_images`), to the same pixels.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> Image.new("RGB", (2000, 1500)).save(buffer, format="JPEG")
        >>> image = Image.open(buffer)
        >>> draft_for_size(image, (224, 224))
        >>> image.size
        (1000, 750)
    """
    if image.format == "JPEG":
        side = 2 * max(size)
        image.draft(None, (side, side))


def _open_file(path: Path, max_pixels: int, size: tuple[int, int]) -> Image.Image:
    try:
        path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ImageLoadError(f"image file {str(path)!r} is a symbolic link to a missing file") from None
        raise ImageLoadError(f"image file {str(path)!r} does not exist") from None
    except OSError as error:  # ELOOP for a link cycle, EACCES, ...: the system's words are the clearest
        raise ImageLoadError(f"image file {str(path)!r} cannot be opened ({error.strerror})") from None
    if path.is_dir():
        raise ImageLoadError(f"image file {str(path)!r} is a folder, not an image")
    if not path.is_file():
        raise ImageLoadError(f"image file {str(path)!r} is not a regular file")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"image file {str(path)!r} is empty (0 bytes)")
    try:
        # PIL's own bomb check warns (and only raises at twice its limit); we enforce max_pixels ourselves.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            # Opening reads only the header: refuse huge images before decoding allocates their pixels.
            if width * height > max_pixels:
                image.close()
                raise ImageLoadError(
                    f"image file {str(path)!r} has {width}x{height} = {width * height} pixels, more than the "
                    f"limit of {max_pixels} (possible decompression bomb; raise max_pixels if intended)"
                )
            draft_for_size(image, size)
            image.load()
    except ImageLoadError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        # UnidentifiedImageError (non-image bytes) and "image file is truncated" are both OSErrors.
        raise ImageLoadError(f"image file {str(path)!r} cannot be decoded: {error}") from None
    return image


def _exif_upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a malformed EXIF block should not make a decodable photo unusable
        return image


def _rgb_float(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        gray = np.asarray(image, dtype=np.float32) / 257.0
    elif mode in ("I", "F"):
        gray = np.asarray(image, dtype=np.float32)
        if not np.isfinite(gray).all():  # float TIFFs can hold NaN / inf, which would poison the whole batch
            return gray  # refused by load_image, naming the file, before clipping could hide an infinity
        # 32-bit modes carry no bit depth; 16-bit PNGs decode to "I" with values up to 65535.
        if mode == "I" and gray.size and gray.max() > 255:
            gray = gray / 257.0
        gray = np.clip(gray, 0.0, 255.0)
    elif mode in _TRANSPARENT_MODES or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.float32)
    else:
        # L, 1, P, CMYK, YCbCr, LAB, HSV all have a defined conversion to RGB.
        return np.asarray(image.convert("RGB"), dtype=np.float32)
    return np.repeat(gray[..., None], 3, axis=-1)


def _array_rgb_float(array: np.ndarray, label: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3):
        raise ImageLoadError(f"{label}: expected shape (H, W, 3), (H, W, 1) or (H, W)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageLoadError(f"{label}: image has no pixels")
    if array.dtype == np.uint8:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float32)
        if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 255.0:
            raise ImageLoadError(f"{label}: float pixel values must be finite and within [0, 255]")
    else:
        raise ImageLoadError(f"{label}: dtype must be uint8 or floating point (values in [0, 255])")
    return values if values.ndim == 3 else np.repeat(values[..., None], 3, axis=-1)


def _resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = size
    if array.shape[:2] == (height, width):
        return array
    # Resize each channel in PIL's float mode: keeps 16-bit precision and antialiases when shrinking.
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(channel)).resize((width, height), Image.Resampling.BICUBIC))
        for channel in np.moveaxis(array, -1, 0)
    ]
    # Bicubic overshoots at sharp edges; clip back into the valid range.
    return np.clip(np.stack(channels, axis=-1), 0.0, 255.0).astype(np.float32)


def load_image(
    source: str | Path | Image.Image | np.ndarray,
    size: tuple[int, int] = (224, 224),
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """``source`` as a float32 RGB array of shape ``(size[0], size[1], 3)`` with values in 0..255.

    Files and PIL images are turned upright by their EXIF orientation; transparent images are composited on
    white; a large JPEG file decodes at a reduced scale (`draft_for_size`). Raises `ImageLoadError` for missing,
    empty, corrupt, truncated or oversized files and for arrays of the wrong shape or dtype.

    Example:
        >>> from PIL import Image
        >>> load_image(Image.new("RGBA", (5, 3), (0, 0, 0, 0)), size=(3, 5))[0, 0].tolist()
        [255.0, 255.0, 255.0]
    """
    if len(size) != 2 or any(int(side) < 1 for side in size):
        raise ValueError(f"size must be (height, width) with positive sides, got {size!r}")
    size = (int(size[0]), int(size[1]))
    label = _describe(source)
    if isinstance(source, np.ndarray):
        return _resize(_array_rgb_float(source, label), size)
    if isinstance(source, (str, Path)):
        image = _open_file(Path(source), max_pixels, size)
    elif isinstance(source, Image.Image):
        if source.width * source.height > max_pixels:
            raise ImageLoadError(f"{label}: more than the limit of {max_pixels} pixels")
        image = source
    else:
        raise ImageLoadError(f"{label}: expected a path, a PIL image or a NumPy array")
    try:
        if image.width == 0 or image.height == 0:
            raise ImageLoadError(f"{label}: image has no pixels")
        pixels = _rgb_float(_exif_upright(image))
        if not np.isfinite(pixels).all():
            raise ImageLoadError(f"{label}: has non-finite pixel values (NaN or infinity)")
        return _resize(pixels, size)
    except ImageLoadError:
        raise
    except (OSError, ValueError) as error:
        raise ImageLoadError(f"{label}: cannot convert to RGB: {error}") from None
    finally:
        if image is not source:
            # Multi-frame formats (GIF, TIFF) keep their file open after load(); release it now.
            image.close()


def load_images(
    sources: Sequence[str | Path | Image.Image | np.ndarray],
    size: tuple[int, int] = (224, 224),
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[np.ndarray, dict[int, str]]:
    """Load a batch: ``(array of shape (N, size[0], size[1], 3), {index: error message})``.

    Rows of images that failed to load are zeros, so one bad file does not lose the batch.

    Example:
        >>> import numpy as np
        >>> batch, errors = load_images([np.zeros((4, 4, 3), np.uint8), "missing.jpg"], size=(2, 2))
        >>> batch.shape, list(errors)
        ((2, 2, 2, 3), [1])
    """
    batch = np.zeros((len(sources), size[0], size[1], 3), dtype=np.float32)
    errors: dict[int, str] = {}
    for index, source in enumerate(sources):
        try:
            batch[index] = load_image(source, size=size, max_pixels=max_pixels)
        except ImageLoadError as error:
            errors[index] = str(error)
    return batch, errors
