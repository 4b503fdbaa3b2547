"""The result of classifying one text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Prediction:
    """One text's prediction.

    Attributes:
        text: the input.
        label: the predicted label; for multi-label problems the list of labels at or above the threshold;
            None when the text could not be classified (see ``error``).
        probability: the model's probability for ``label`` (multi-label: the highest label probability).
        probabilities: every label's probability.
        error: why the text was not classified (e.g. it has no tokens), else None.

    Example:
        >>> Prediction("fine", "pos", 0.9, {"neg": 0.1, "pos": 0.9}).to_dict()["label"]
        'pos'
    """

    text: str
    label: str | list[str] | None
    probability: float | None
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)
