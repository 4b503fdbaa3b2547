"""What `transfer_encoder` copied from a language model into a classifier or tagger."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransferReport:
    """The outcome of starting a network from a pretrained language model.

    Attributes:
        source: where the language model came from (its file, or ``"<LanguageModel>"``).
        layers: the layers whose weights were copied, bottom up (``"embedding"``, ``"recurrent/lstm_0"``...).
        vocabulary_size: rows of the new network's embedding.
        rows_from_lm: rows copied from the language model (its whole vocabulary, reserved ids included).
        fresh_words: task words the language model never saw: rows that start from the mean of its rows.
        coverage: the share of the task's running words (tokens) that the language model knows.

    Example:
        >>> report = TransferReport("lm.keras", ("embedding",), 120, 100, 20, 0.93)
        >>> print(*report.summary().split("; "), sep="\\n")
        Initialised embedding from lm.keras: 100 rows copied, 20 new words start fresh
        the language model knows 93.0% of the training tokens.
    """

    source: str
    layers: tuple[str, ...]
    vocabulary_size: int
    rows_from_lm: int
    fresh_words: int
    coverage: float

    def summary(self) -> str:
        """One line for a person."""
        return (f"Initialised {', '.join(self.layers)} from {self.source}: {self.rows_from_lm:,} rows copied, "
                f"{self.fresh_words:,} new words start fresh; the language model knows {100 * self.coverage:.1f}% "
                "of the training tokens.")
