"""Caption a split and score it with the COCO caption metrics (BLEU-1..4, METEOR, ROUGE-L, CIDEr-D).

Example:
    >>> import tempfile
    >>> from captioner.config import CaptionerConfig
    >>> from captioner.data import make_synthetic, read_coco
    >>> from captioner.training import build_captioner
    >>> folder = tempfile.mkdtemp()
    >>> records = read_coco(make_synthetic(folder, num_images=10, image_size=16), folder)
    >>> model = build_captioner(records, CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8,
    ...                                                  min_count=1, units=8, embedding_dim=4))
    >>> report = evaluate_captioner(model, records, split="test", beam_size=1, use_java=False)
    >>> sorted(key for key in report.metrics if key.startswith("bleu"))
    ['bleu1', 'bleu2', 'bleu3', 'bleu4']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from captioner.data.records import CaptionRecord
from captioner.encoder import read_features
from captioner.errors import CaptionDataError
from captioner.metrics import caption_metrics
from captioner.model import CaptionModel


@dataclass
class EvaluationReport:
    """Corpus metrics plus each image's generated caption (``{image_id: caption}``).

    Example:
        >>> EvaluationReport({"bleu4": 0.5}, {"7": "a dog"}, 1).captions["7"]
        'a dog'
    """

    metrics: dict
    captions: dict
    num_images: int
    # {path: error} of photos that could not be read (scored without them).
    unreadable: dict | None = None


def generate_captions(
    model: CaptionModel,
    records: Sequence[CaptionRecord],
    beam_size: int | None = None,
    batch_size: int = 64,
    features: Mapping | None = None,
    unreadable: dict | None = None,
    **decoding,
) -> dict[str, str]:
    """``{image_id: caption}`` for ``records``: from their photos (streamed through ``tf.data``, one batch of
    pixels in memory at a time) or from cached ``features`` when given.

    Photos that cannot be read get no caption; their path and error go to ``unreadable`` when given.
    The model decodes with its stored settings (``model.decoding``); ``beam_size`` and ``decoding`` (further
    options of `CaptionModel.generate`, e.g. ``length_penalty``) override them.

    Example (from cached features; the module example reads the photos):
        >>> from pathlib import Path
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
        >>> records = [CaptionRecord("7", Path("seven.png"), "test", ("a red circle",))]
        >>> captions = generate_captions(model, records, beam_size=1, features={"7": np.ones(8, "float32")})
        >>> list(captions), set(captions["7"].split()) <= {"a", "red", "circle", "<unk>"}
        (['7'], True)
    """
    captions = {}

    def decode(batch_records, vectors):
        hypotheses = model.generate(vectors, beam_size=beam_size, **decoding)
        for record, hyps in zip(batch_records, hypotheses):
            captions[record.image_id] = model.text_encoder.decode(hyps[0].tokens)

    if features is not None or model.image_blind:
        for start in range(0, len(records), batch_size):
            batch = records[start : start + batch_size]
            if model.image_blind:
                vectors = np.zeros((len(batch), model.feature_dim), np.float32)
            else:
                vectors = read_features(features, [record.image_id for record in batch])
            decode(batch, vectors)
        return captions
    from captioner.data.pipeline import image_batches

    paths = [record.image_path for record in records]
    batches = image_batches(paths, model.image_size, batch_size, unreadable=unreadable)
    for indices, images in batches.as_numpy_iterator():
        decode([records[index] for index in indices], model.encode_images(images))
    return captions


def evaluate_captioner(
    model: CaptionModel,
    records: Sequence[CaptionRecord],
    split: str = "test",
    beam_size: int | None = None,
    features: Mapping | None = None,
    use_java: bool = True,
    **decoding,
) -> EvaluationReport:
    """Caption every ``split`` image (with the model's stored decoding settings unless ``beam_size`` or
    ``decoding`` override them) and score against its references with `captioner.metrics.caption_metrics`.

    See the module example.
    """
    chosen = [record for record in records if record.split == split]
    if not chosen:
        splits = sorted({record.split for record in records})
        raise CaptionDataError(f"No images in split {split!r}; the data has splits {splits}.")
    unreadable: dict[str, str] = {}
    captions = generate_captions(model, chosen, beam_size=beam_size, features=features, unreadable=unreadable,
                                 **decoding)
    if not captions:
        raise CaptionDataError(f"None of the {len(chosen)} {split!r} photos could be read, e.g. "
                         f"{next(iter(unreadable.values()), '?')}")
    references = {record.image_id: list(record.captions) for record in chosen if record.image_id in captions}
    metrics = caption_metrics(references, captions, use_java=use_java)
    return EvaluationReport(metrics, captions, len(captions), unreadable or None)
