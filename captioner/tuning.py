"""Choose the beam width and length normalisation on the validation split (never on the test split).

Beam search's two knobs change what a captioner says: a wider beam finds likelier captions, and the length
penalty ``alpha`` (score = log p / length ** alpha) decides how much short, generic captions are preferred.
`tune_decoding` captions the validation photos under every combination, keeps the best by a COCO metric
(CIDEr-D by default) and stores it in the model (``model.decoding``, saved with it), so that every path that
captions with the saved model decodes that way; the test split is then scored once with that choice.

Example:
    >>> import tempfile
    >>> from captioner.config import CaptionerConfig
    >>> from captioner.data import make_synthetic, read_coco
    >>> from captioner.training import build_captioner
    >>> folder = tempfile.mkdtemp()
    >>> records = read_coco(make_synthetic(folder, num_images=10, image_size=16), folder)
    >>> model = build_captioner(records, CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8,
    ...                                                  min_count=1, units=8, embedding_dim=4))
    >>> choice = tune_decoding(model, records, beam_sizes=(1, 2), length_penalties=(0.0,), use_java=False,
    ...                        metric="bleu4")
    >>> sorted(choice.best), len(choice.table)
    (['beam_size', 'length_penalty'], 2)
    >>> model.decoding.beam_size == choice.best["beam_size"]
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from captioner.data.records import CaptionRecord
from captioner.errors import CaptionDataError
from captioner.evaluation import generate_captions
from captioner.metrics import caption_metrics
from captioner.model import CaptionModel
from textmodels.errors import ConfigurationError


@dataclass
class DecodingChoice:
    """The best ``{"beam_size", "length_penalty"}`` and every combination's validation metrics.

    Example:
        >>> DecodingChoice({"beam_size": 3, "length_penalty": 0.5}, "cider", []).best["beam_size"]
        3
    """

    best: dict
    metric: str
    # One row per combination: {"beam_size", "length_penalty", <metric>: value, ...}.
    table: list


def tune_decoding(
    model: CaptionModel,
    records: Sequence[CaptionRecord],
    *,
    split: str = "val",
    beam_sizes: Sequence[int] = (1, 3, 5),
    length_penalties: Sequence[float] = (0.0, 0.5, 1.0),
    metric: str = "cider",
    features: Mapping | None = None,
    use_java: bool = True,
) -> DecodingChoice:
    """Score every (beam width, length penalty) on ``split``, store the best by ``metric`` in ``model.decoding``
    (its other settings, e.g. ``block_ngram``, stay and apply while choosing) and return the choice.

    Example:
        >>> from captioner.data.records import CaptionRecord
        >>> try:
        ...     tune_decoding(None, [CaptionRecord("1", "a.jpg", "test", ("a cat",))], split="test")
        ... except ValueError as error:
        ...     print(error)
        Choosing the decoding on the test split would overstate the test scores; use 'val'.
    """
    chosen = [record for record in records if record.split == split]
    if not chosen:
        raise CaptionDataError(f"No images in split {split!r} to choose the decoding on.")
    if split == "test":
        raise ConfigurationError("Choosing the decoding on the test split would overstate the test scores; use 'val'.")
    references = {record.image_id: list(record.captions) for record in chosen}
    table = []
    for beam_size in beam_sizes:
        # Greedy decoding ignores the length penalty: one row for it.
        for length_penalty in (length_penalties[:1] if beam_size == 1 else length_penalties):
            captions = generate_captions(model, chosen, beam_size=beam_size, features=features,
                                         length_penalty=float(length_penalty))
            scores = caption_metrics({key: references[key] for key in captions}, captions, use_java=use_java,
                                     meteor=False)
            if metric not in scores:
                raise ConfigurationError(f"Unknown metric {metric!r}; available: {sorted(scores)}.")
            table.append({"beam_size": int(beam_size), "length_penalty": float(length_penalty),
                          **{key: value for key, value in scores.items() if isinstance(value, float)}})
    best = max(table, key=lambda row: row[metric])
    choice = DecodingChoice({"beam_size": best["beam_size"], "length_penalty": best["length_penalty"]}, metric, table)
    model.decoding = model.decoding.replace(**choice.best)
    return choice
