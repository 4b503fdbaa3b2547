"""Load the tensorflow-datasets ``coco_captions`` dataset (COCO 2014, Karpathy splits) as `CaptionRecord` lists.

tensorflow-datasets yields decoded image tensors; the rest of the captioner works on image files, so each image
is written once as ``<image_dir>/<image id>.jpg`` (existing files are reused, so a second call is fast).
Downloading needs the network: when the dataset is not yet prepared in ``data_dir`` the loader first checks that
storage.googleapis.com is reachable and otherwise fails within seconds, naming the offline alternatives.

Example (needs the prepared dataset, about 20 GB, or the network to download it):
    >>> records = load_tfds_coco_captions("val[:100]", data_dir="/data/tfds")  # doctest: +SKIP
    >>> records[0].split, len(records[0].captions)  # doctest: +SKIP
    ('val', 5)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from captioner.data.records import CaptionRecord, ImageEntry, build_records, clean_caption, normalize_split
from captioner.errors import CaptionDataError
from textmodels.data.network import require_network

DATASET_NAME = "coco_captions"
_OFFLINE_ALTERNATIVE = (
    "Prepare coco_captions on a machine with network access and pass its data_dir, or read local files with "
    "captioner.data.read_coco / read_karpathy (e.g. the Flickr8k copy in the shared data folder)."
)


def _split_name(split: str) -> str:
    # "train[:100]" or "val[10%:]" are tfds slicing expressions over a named split.
    return normalize_split(split.split("[", 1)[0], where=f"tfds split {split!r}")


def _save_jpeg(image: np.ndarray, path: Path) -> None:
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    temporary = path.with_suffix(".tmp")
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(temporary, format="JPEG", quality=95)
    # Rename last so an interrupted run never leaves a half-written JPEG that looks finished.
    temporary.replace(path)


def load_tfds_coco_captions(
    split: str,
    data_dir: str | Path | None = None,
    image_dir: str | Path | None = None,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> list[CaptionRecord]:
    """Records for one ``coco_captions`` split (``train``, ``val``, ``test``, ``restval``, slices allowed).

    ``image_dir`` defaults to ``<data_dir>/coco_captions_jpeg/<split>``; ``data_dir`` defaults to the
    tensorflow-datasets data folder.

    Example (offline: tfds.testing.mock_data serves fake examples once the network check is bypassed, as the
    tests do):
        >>> record = load_tfds_coco_captions("test[:1]", data_dir="/data/tfds")[0]  # doctest: +SKIP
        >>> record.image_path.name  # doctest: +SKIP
        '391895.jpg'
    """
    import tensorflow_datasets as tfds  # heavy import, only needed here

    split_name = _split_name(split)
    root = Path(data_dir) if data_dir is not None else Path(tfds.core.constants.DATA_DIR)
    images = Path(image_dir) if image_dir is not None else root / "coco_captions_jpeg" / split_name
    if not tfds.builder(DATASET_NAME, data_dir=str(root)).is_prepared():
        require_network("storage.googleapis.com", what="the coco_captions dataset", alternative=_OFFLINE_ALTERNATIVE)
    dataset = tfds.load(DATASET_NAME, split=split, data_dir=str(root), download=True)

    images.mkdir(parents=True, exist_ok=True)
    entries: dict[str, ImageEntry] = {}
    for example in tqdm(dataset.as_numpy_iterator(), desc=f"coco_captions {split}", disable=not progress):
        image_id = str(int(example["image/id"]))
        where = f"coco_captions {split}: image id {image_id}"
        if image_id in entries:
            raise CaptionDataError(f"{where}: duplicate image id")
        file_name = f"{image_id}.jpg"
        if overwrite or not (images / file_name).is_file():
            _save_jpeg(example["image"], images / file_name)
        entry = ImageEntry(image_id, file_name, split_name, where=f"coco_captions {split}")
        for text in example["captions"]["text"]:
            try:
                entry.captions.append(clean_caption(text.decode("utf-8"), where=where))
            except (CaptionDataError, UnicodeDecodeError) as error:
                entry.problem = entry.problem or str(error)
        entries[image_id] = entry
    return build_records(entries.values(), images)
