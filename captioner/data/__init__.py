"""Caption datasets: readers for COCO JSON, Flickr8k, Karpathy splits and tfds ``coco_captions``, plus a
synthetic shapes dataset, all returning lists of `CaptionRecord`.

Example:
    >>> import tempfile
    >>> from captioner.data import make_synthetic, read_coco
    >>> folder = tempfile.mkdtemp()
    >>> records = read_coco(make_synthetic(folder, num_images=10, image_size=16), folder)
    >>> len(records), sorted({record.split for record in records}), len(records[0].captions) >= 1
    (10, ['test', 'train', 'val'], True)
"""

from captioner.data.coco import read_coco
from captioner.data.flickr8k import flickr8k_split_files, read_flickr8k_csv, read_flickr8k_token_file
from captioner.data.karpathy import read_karpathy
from captioner.data.records import KNOWN_SPLITS, CaptionRecord
from captioner.data.synthetic import make_synthetic
from captioner.data.tfds_coco import load_tfds_coco_captions
from captioner.errors import CaptionDataError

__all__ = [
    "KNOWN_SPLITS",
    "CaptionDataError",
    "CaptionRecord",
    "flickr8k_split_files",
    "load_tfds_coco_captions",
    "make_synthetic",
    "read_coco",
    "read_flickr8k_csv",
    "read_flickr8k_token_file",
    "read_karpathy",
]
