"""Reading any supported caption file: the format told by its name, COCO or Karpathy told by its content.

Example:
    >>> caption_format("captions.json"), caption_format("Flickr8k.token.txt"), caption_format("captions.csv")
    ('json', 'flickr8k-token', 'csv')
"""

from __future__ import annotations

from pathlib import Path

from captioner.errors import CaptionDataError


def caption_format(path: str | Path) -> str:
    """The reader for ``path`` by its suffix: ``json`` (COCO or Karpathy), ``flickr8k-token`` or ``csv``.

    Example:
        >>> caption_format("dataset_flickr8k.json")
        'json'
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix == ".txt":
        return "flickr8k-token"
    if suffix == ".csv":
        return "csv"
    raise CaptionDataError(
        f"Cannot tell the format of {str(path)!r}: expected a COCO or Karpathy .json, a Flickr8k.token.txt "
        "or an image,caption .csv."
    )


def read_caption_data(
    path: str | Path, images: str | Path, splits_dir: str | Path | None = None, strict: bool = False
) -> list:
    """Records from a COCO/Karpathy JSON, a Flickr8k token file or CSV (``splits_dir``: the Flickr8k text folder
    with the official split lists, default: the caption file's folder when it holds them).

    Images whose photo is missing are left out with a warning that counts them (the official Flickr8k token
    file names one absent photo); ``strict=True`` refuses such data instead.

    Example:
        >>> import tempfile
        >>> from captioner.data import make_synthetic
        >>> folder = tempfile.mkdtemp()
        >>> len(read_caption_data(make_synthetic(folder, num_images=3, image_size=16), folder))
        3
    """
    from captioner.data import (
        flickr8k_split_files,
        read_coco,
        read_flickr8k_csv,
        read_flickr8k_token_file,
        read_karpathy,
    )
    from captioner.data.coco import load_json

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Caption file {str(path)!r} does not exist.")
    kind = caption_format(path)
    if kind == "json":
        data = load_json(path)
        if isinstance(data, dict) and "annotations" in data:
            return read_coco(path, images, only_existing=not strict)
        if isinstance(data, dict) and isinstance(data.get("images"), list) and data["images"] \
                and isinstance(data["images"][0], dict) and "sentences" in data["images"][0]:
            return read_karpathy(path, images, only_existing=not strict)
        raise CaptionDataError(f"{str(path)!r} is neither COCO caption JSON ('annotations') nor a Karpathy split "
                         "file ('images' with 'sentences').")
    split_files = None
    folder = Path(splits_dir) if splits_dir else path.parent
    candidates = flickr8k_split_files(folder)
    if all(Path(file).is_file() for file in candidates.values()):
        split_files = candidates
    elif splits_dir:
        listed = sorted(str(file) for file in candidates.values())
        raise FileNotFoundError(f"{folder} does not hold the Flickr8k split lists {listed}.")
    if kind == "flickr8k-token":
        return read_flickr8k_token_file(path, images, split_files, only_existing=not strict)
    return read_flickr8k_csv(path, images, split_files, only_existing=not strict)
