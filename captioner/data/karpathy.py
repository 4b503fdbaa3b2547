"""Read Karpathy's ``dataset_{coco,flickr8k,flickr30k}.json`` split files into `CaptionRecord` lists.

Each image is ``{filename, filepath?, split, sentences: [{raw, tokens}], imgid, cocoid?}``; the image path is
``image_root / filepath / filename``. The image id is ``cocoid`` when present (stable across COCO files),
else ``imgid``. Splits are kept as given (``train``, ``val``, ``test``, ``restval``).

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> data = {"images": [{"filename": "a.jpg", "imgid": 0, "split": "test",
    ...                     "sentences": [{"raw": "A dog .", "tokens": ["a", "dog"]}]}]}
    >>> _ = (folder / "dataset_x.json").write_text(json.dumps(data))
    >>> read_karpathy(folder / "dataset_x.json", folder, check_files=False)[0].split
    'test'
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from captioner.data.coco import load_json, require_key
from captioner.data.records import CaptionRecord, ImageEntry, build_records, clean_caption, normalize_split
from captioner.errors import CaptionDataError


def _sentence_text(sentence: object, *, where: str) -> object:
    if not isinstance(sentence, dict):
        raise CaptionDataError(f"{where}: expected a JSON object, got {type(sentence).__name__}")
    if "raw" in sentence:
        return sentence["raw"]
    tokens = require_key(sentence, "tokens", where=f"{where} (no 'raw')")
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        raise CaptionDataError(f"{where}: 'tokens' must be a list of strings")
    return " ".join(tokens)


def read_karpathy(
    json_path: str | Path,
    image_root: str | Path,
    check_files: bool = True,
    *,
    only_existing: bool = False,
) -> list[CaptionRecord]:
    """Records for every image of a Karpathy split file, in file order.

    Example:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> image = {"filepath": "val2014", "filename": "b.jpg", "cocoid": 42, "imgid": 0, "split": "restval",
        ...          "sentences": [{"raw": "A cat .", "tokens": ["a", "cat"]}]}
        >>> _ = (folder / "dataset_coco.json").write_text(json.dumps({"images": [image]}))
        >>> record = read_karpathy(folder / "dataset_coco.json", folder, check_files=False)[0]
        >>> record.image_id, record.image_path.relative_to(folder).as_posix()
        ('42', 'val2014/b.jpg')
    """
    path = Path(json_path)
    images = require_key(load_json(path), "images", where=str(path))
    if not isinstance(images, list):
        raise CaptionDataError(f"{path}: 'images' must be a list, got {type(images).__name__}")
    entries: dict[str, ImageEntry] = {}
    for position, image in enumerate(images):
        where = f"{path}: images[{position}]"
        require_key(image, "filename", where=where)
        if "cocoid" in image:
            raw_id = image["cocoid"]
        else:
            raw_id = require_key(image, "imgid", where=f"{where} (no 'cocoid')")
        if isinstance(raw_id, bool) or not isinstance(raw_id, (int, str)) or not str(raw_id).strip():
            raise CaptionDataError(f"{where}: image id must be an integer or non-empty string, got {raw_id!r}")
        image_id = str(raw_id)
        where = f"{where} (image id {image_id})"
        if image_id in entries:
            raise CaptionDataError(f"{where}: duplicate image id {image_id!r}")
        folder, file_name = image.get("filepath", ""), image["filename"]
        if not isinstance(folder, str) or not isinstance(file_name, str):
            raise CaptionDataError(f"{where}: 'filepath' and 'filename' must be strings")
        relative = str(PurePosixPath(folder) / file_name) if folder else file_name
        split = normalize_split(require_key(image, "split", where=where), where=where)
        entry = ImageEntry(image_id, relative, split, where=str(path))
        sentences = require_key(image, "sentences", where=where)
        if not isinstance(sentences, list):
            raise CaptionDataError(f"{where}: 'sentences' must be a list")
        for number, sentence in enumerate(sentences):
            sentence_where = f"{where}, sentences[{number}]"
            try:
                text = _sentence_text(sentence, where=sentence_where)
                entry.captions.append(clean_caption(text, where=sentence_where))
            except CaptionDataError as error:
                entry.problem = entry.problem or str(error)
        entries[image_id] = entry
    return build_records(entries.values(), image_root, check_files=check_files, only_existing=only_existing)
