"""`LabeledTexts`: the plain result of every text-classification reader.

Example:
    >>> from textmodels.data.labeled_texts import LabeledTexts
    >>> data = LabeledTexts(texts=["great film", "dull"], labels=["pos", "neg"])
    >>> len(data), data.take([1]).labels
    (2, ['neg'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with one string label each; the classifier, not the reader, maps labels to ids.

    Example:
        >>> from textmodels.data.labeled_texts import LabeledTexts
        >>> data = LabeledTexts(texts=["a", "b", "c"], labels=["x", "y", "x"])
        >>> len(data), sorted(set(data.labels))
        (3, ['x', 'y'])
    """

    texts: list[str]
    labels: list[str]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(
                f"LabeledTexts needs one label per text: got {len(self.texts)} texts and "
                f"{len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices: Iterable[int]) -> LabeledTexts:
        """The examples at ``indices``, in that order (pairs with `textmodels.data.splits`).

        Example:
            >>> from textmodels.data.labeled_texts import LabeledTexts
            >>> LabeledTexts(["a", "b", "c"], ["x", "y", "z"]).take([2, 0]).texts
            ['c', 'a']
        """
        chosen = [int(index) for index in indices]
        return LabeledTexts(
            texts=[self.texts[index] for index in chosen],
            labels=[self.labels[index] for index in chosen],
        )
