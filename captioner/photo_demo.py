"""From a folder of captioned photos to a usable captioner in minutes: extract features once, train, choose the
decoding on the validation split, score the test split.

Works on any Flickr8k-style folder: a caption file (``captions_flickr8k.json`` / any COCO or Karpathy JSON, or
``Flickr8k.token.txt`` with the official split lists beside it) and a folder of photos. Features are computed by a
pretrained encoder into a resumable cache under the work folder (reused by later runs), the decoder is trained
with `captioner.config.PHOTO_DECODER`, and the result is one ``.keras`` file that `captioner.api.Captioner`
loads.

Example (the recipe; `train_photo_captioner` runs it all):
    >>> config = photo_config("mobilenet_v2", weights=None)
    >>> config.encoder, config.cell, config.dropout, config.feature_normalization
    ('mobilenet_v2', 'gru', 0.5, 'l2')
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from captioner.config import PHOTO_DECODER, CaptionerConfig

CAPTION_FILES = ("captions_flickr8k.json", "captions.json", "dataset_flickr8k.json", "Flickr8k.token.txt",
                 "Flickr8k_text/Flickr8k.token.txt")
IMAGE_FOLDERS = ("images_224", "Flicker8k_Dataset", "Flickr8k_Dataset", "Images", "images", "images_256px")


def find_caption_file(data_dir: str | Path) -> tuple[Path, Path]:
    """``(caption file, photo folder)`` inside a Flickr8k-style ``data_dir``; raises naming what was looked for.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> (folder / "images").mkdir(); _ = (folder / "captions.json").write_text("{}")
        >>> [path.name for path in find_caption_file(folder)]
        ['captions.json', 'images']
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"Photo folder {str(data_dir)!r} is not a directory.")
    captions = next((data_dir / name for name in CAPTION_FILES if (data_dir / name).is_file()), None)
    if captions is None:
        raise FileNotFoundError(f"{data_dir} holds none of the caption files {', '.join(CAPTION_FILES)}.")
    images = next((data_dir / name for name in IMAGE_FOLDERS if (data_dir / name).is_dir()), data_dir)
    return captions, images


def photo_config(encoder: str, weights: str | None, seed: int = 0, **overrides) -> CaptionerConfig:
    """`PHOTO_DECODER` on a pretrained ``encoder``.

    Example:
        >>> photo_config("mobilenet_v2", None).dropout
        0.5
    """
    return replace(CaptionerConfig(encoder=encoder, weights=weights, seed=seed, **PHOTO_DECODER), **overrides)


def feature_cache(records, config: CaptionerConfig, folder: str | Path, batch_size: int = 32, progress=True):
    """The features of every photo of ``records`` under ``config``'s encoder, computed where missing.

    Returns ``(cache, errors)``; ``errors`` maps each unreadable photo's id to its message.

    Example:
        >>> import tempfile
        >>> from captioner.data import make_synthetic, read_coco
        >>> folder = tempfile.mkdtemp()
        >>> records = read_coco(make_synthetic(folder, num_images=10, image_size=16), folder)
        >>> config = CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8)
        >>> cache, errors = feature_cache(records, config, folder + "/features", progress=False)
        >>> cache.is_complete(), errors, cache.read([records[0].image_id]).shape
        (True, {}, (1, 8))
    """
    from captioner.encoder import FeatureCache, build_encoder, extract_features
    from captioner.training import config_encoder

    encoder_config = config_encoder(config)
    ids = list(dict.fromkeys(record.image_id for record in records))
    cache = FeatureCache(folder, ids, encoder_config["feature_dim"], encoder_config)
    errors = {}
    if not cache.is_complete():
        encoder = build_encoder(encoder_config)
        side = encoder_config["image_size"]
        errors = extract_features(lambda batch: encoder(batch, training=False), records, cache,
                                  batch_size=batch_size, image_size=(side, side), progress=progress)
    return cache, errors


def train_photo_captioner(
    data_dir: str | Path,
    work_dir: str | Path,
    *,
    encoder: str = "mobilenet_v2",
    weights: str | None = "imagenet",
    epochs: int | None = None,
    seed: int = 0,
    verbose: int = 2,
    strict: bool = False,
) -> dict:
    """Features -> decoder -> decoding chosen on val (stored in the saved model) -> test metrics; returns what
    happened, model path included.

    Example (an untrained MobileNetV2 on the synthetic shapes: the whole path, in a minute):
        >>> import tempfile
        >>> from captioner.data import make_synthetic
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = make_synthetic(folder / "shapes", num_images=20, image_size=32)
        >>> report = train_photo_captioner(folder / "shapes", folder / "work", weights=None, epochs=1, verbose=0)
        >>> report["images"], sorted(report["decoding"]), Path(report["model"]).name, "bleu4" in report["test_metrics"]
        (20, ['beam_size', 'length_penalty'], 'captioner.keras', True)
    """
    from captioner.api import Captioner
    from captioner.data.caption_files import read_caption_data
    from captioner.evaluation import evaluate_captioner
    from captioner.training import train_captioner
    from captioner.tuning import tune_decoding

    started = time.perf_counter()
    work_dir = Path(work_dir)
    caption_file, images = find_caption_file(data_dir)
    records = read_caption_data(caption_file, images, strict=strict)
    config = photo_config(encoder, weights, seed, **({} if epochs is None else {"epochs": epochs}))
    cache, errors = feature_cache(records, config, work_dir / f"features_{encoder}", progress=verbose > 0)
    result = train_captioner(records, config, features=cache, verbose=verbose)
    splits = {record.split for record in records}
    report = {"data": str(caption_file), "images": len(records), "unreadable": errors,
              "epochs": len(result.history.get("loss", [])), "encoder": encoder}
    if "val" in splits:
        # Stored in the model (before it is saved): every later use of the file decodes this way.
        report["decoding"] = tune_decoding(result.model, records, features=cache).best
    report["model"] = str(Captioner(result.model).save(work_dir / "captioner.keras"))
    if "test" in splits:
        test = evaluate_captioner(result.model, records, split="test", features=cache)
        report["test_metrics"] = {key: value for key, value in test.metrics.items() if isinstance(value, float)}
        test_records = [record for record in records if record.split == "test"]
        report["examples"] = [{"image": record.image_path.name, "caption": test.captions[record.image_id],
                               "reference": record.captions[0]} for record in test_records[:5]
                              if record.image_id in test.captions]
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report
