"""Read COCO-style caption JSON (``images`` + ``annotations``) into `CaptionRecord` lists.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> data = {"images": [{"id": 1, "file_name": "a.jpg", "split": "train"}],
    ...         "annotations": [{"id": 9, "image_id": 1, "caption": "a dog"}]}
    >>> _ = (folder / "c.json").write_text(json.dumps(data))
    >>> read_coco(folder / "c.json", folder, check_files=False)[0].captions
    ('a dog',)
"""

from __future__ import annotations

import json
from pathlib import Path

from captioner.data.records import CaptionRecord, ImageEntry, build_records, clean_caption, normalize_split
from captioner.errors import CaptionDataError


def load_json(json_path: str | Path) -> object:
    """Parse a JSON file, turning a missing or malformed file into `CaptionDataError` naming it.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "x.json"
        >>> _ = path.write_text('{"a": 1}')
        >>> load_json(path)
        {'a': 1}
    """
    path = Path(json_path)
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise CaptionDataError(f"caption file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CaptionDataError(f"caption file {path} is not valid JSON: {error}") from None


def require_key(mapping: object, key: str, *, where: str) -> object:
    """``mapping[key]``, raising `CaptionDataError` naming ``where`` and ``key`` when absent.

    Example:
        >>> require_key({"id": 3}, "id", where="images[0]")
        3
    """
    if not isinstance(mapping, dict):
        raise CaptionDataError(f"{where}: expected a JSON object, got {type(mapping).__name__}")
    if key not in mapping:
        raise CaptionDataError(f"{where}: missing key {key!r}")
    return mapping[key]


def _image_id(value: object, *, where: str) -> str:
    # COCO uses integers, other exporters strings; both become the same string key.
    if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
        raise CaptionDataError(f"{where}: image id must be an integer or non-empty string, got {value!r}")
    return str(value)


def read_coco(
    json_path: str | Path,
    image_root: str | Path,
    check_files: bool = True,
    *,
    only_existing: bool = False,
) -> list[CaptionRecord]:
    """Records for every image in a COCO caption file, in the order of its ``images`` list.

    Images without a ``split`` key get split ``"none"``. ``only_existing=True`` drops images whose file is
    missing instead of raising.

    Example:
        >>> from textmodels.data.paths import shared_data_dir
        >>> root = shared_data_dir()
        >>> if root is not None:
        ...     folder = root / "flickr8k_1k"
        ...     records = read_coco(folder / "captions_flickr8k_1k.json", folder / "images_256px")
        ...     assert len(records) == 1000
    """
    path = Path(json_path)
    data = load_json(path)
    images = require_key(data, "images", where=str(path))
    annotations = require_key(data, "annotations", where=str(path))
    for key, value in (("images", images), ("annotations", annotations)):
        if not isinstance(value, list):
            raise CaptionDataError(f"{path}: {key!r} must be a list, got {type(value).__name__}")

    entries: dict[str, ImageEntry] = {}
    for position, image in enumerate(images):
        where = f"{path}: images[{position}]"
        image_id = _image_id(require_key(image, "id", where=where), where=where)
        if image_id in entries:
            raise CaptionDataError(f"{where}: duplicate image id {image_id!r}")
        split = normalize_split(image.get("split", "none"), where=f"{where} (id {image_id})")
        file_name = require_key(image, "file_name", where=f"{where} (id {image_id})")
        entries[image_id] = ImageEntry(image_id, file_name, split, where=str(path))

    for position, annotation in enumerate(annotations):
        where = f"{path}: annotations[{position}]"
        if isinstance(annotation, dict) and "id" in annotation:
            where += f" (annotation id {annotation['id']})"
        image_id = _image_id(require_key(annotation, "image_id", where=where), where=where)
        if image_id not in entries:
            raise CaptionDataError(f"{where}: refers to unknown image id {image_id!r}")
        entry = entries[image_id]
        try:
            where += f" for image {image_id!r}"
            entry.captions.append(clean_caption(require_key(annotation, "caption", where=where), where=where))
        except CaptionDataError as error:
            # Only fatal when the image is kept (see build_records).
            entry.problem = entry.problem or str(error)
    return build_records(entries.values(), image_root, check_files=check_files, only_existing=only_existing)
