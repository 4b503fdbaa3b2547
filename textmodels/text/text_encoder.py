"""Raw text -> padded id arrays, with every preprocessing choice in one serializable object.

Models keep their `TextEncoder` in their Keras config, so a model loaded from a `.keras` file predicts on raw
text with nothing else at hand.

Example:
    >>> encoder = TextEncoder.fit(["a good film", "a bad film"], max_length=4)
    >>> encoder.encode(["a good good film indeed"]).tolist()
    [[4, 7, 7, 5]]
    >>> encoder.decode([4, 7, 5, 0])
    'a good film'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import keras
import numpy as np

from textmodels.errors import ConfigurationError, DataError, check_choice
from textmodels.text.packing import pack_ids
from textmodels.text.tokenizers import CharTokenizer, WordTokenizer, get_tokenizer
from textmodels.text.vocabulary import Vocabulary

TRUNCATIONS = ("end", "middle")


@keras.saving.register_keras_serializable(package="textmodels")
class TextEncoder:
    """A tokenizer, a `Vocabulary` and a maximum length.

    Args:
        tokenizer: a `WordTokenizer` or `CharTokenizer`.
        vocabulary: the `Vocabulary`.
        max_length: sequences are post-padded to at most this many ids, ``<bos>``/``<eos>`` included; longer
            texts lose words from their end, never their markers (`textmodels.text.packing.pack_ids`).
        add_bos, add_eos: wrap every sequence in ``<bos>`` / ``<eos>``.
        truncation: what a text longer than ``max_length`` loses: ``"end"`` (its last words) or ``"middle"``
            (keeps its first quarter and its last three quarters: a review's verdict is often at its end).
        ngrams: word n-grams up to this length join the ids (a bag-of-n-grams model's input, `TextBag`): each
            word's id is followed by the ids of the n-grams ending at it that the vocabulary holds (an unknown
            n-gram is left out, never ``<unk>``). Word level only; 1 (the default): words alone.

    Example:
        >>> encoder = TextEncoder.fit(["a good film", "a good plot"], ngrams=2)
        >>> [encoder.vocabulary.token(i) for i in encoder.encode(["a good film"])[0]]
        ['a', 'good', 'a good', 'film']
    """

    def __init__(
        self,
        tokenizer: WordTokenizer | CharTokenizer,
        vocabulary: Vocabulary,
        max_length: int | None = None,
        add_bos: bool = False,
        add_eos: bool = False,
        truncation: str = "end",
        ngrams: int = 1,
    ):
        check_choice("truncation", truncation, TRUNCATIONS)
        if not isinstance(ngrams, int) or ngrams < 1:
            raise ConfigurationError(f"ngrams must be a positive integer, got {ngrams!r}.")
        if ngrams > 1 and not isinstance(tokenizer, WordTokenizer):
            raise ConfigurationError(f"ngrams={ngrams} needs word tokens; this encoder's tokens are characters.")
        if max_length is not None and max_length <= add_bos + add_eos:
            raise ConfigurationError(
                f"max_length must leave room for a token beside the <bos>/<eos> markers, got {max_length}."
            )
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.max_length = max_length
        self.add_bos = add_bos
        self.add_eos = add_eos
        self.truncation = truncation
        self.ngrams = ngrams

    @classmethod
    def fit(
        cls,
        texts: Iterable[str],
        level: str = "word",
        lowercase: bool | None = None,
        min_count: int = 1,
        max_size: int | None = None,
        max_length: int | None = None,
        add_bos: bool = False,
        add_eos: bool = False,
        truncation: str = "end",
        ngrams: int = 1,
    ) -> TextEncoder:
        """Builds the vocabulary from ``texts``: the tokens seen ``min_count`` times, and with ``ngrams`` > 1
        the word n-grams seen at least twice (and ``min_count`` times): one seen once can only add a row that
        no other text reads."""
        tokenizer = get_tokenizer(level, lowercase)
        counts, ngram_counts = Counter(), Counter()
        for position, text in enumerate(texts):
            try:
                tokens = tokenizer.tokenize(text)
            except TypeError as error:
                raise TypeError(f"Text #{position}: {error}") from None
            counts.update(tokens)
            for end in range(2, len(tokens) + 1):
                ngram_counts.update(_ngrams_ending_at(tokens, end, ngrams))
        if not counts:
            raise DataError("Cannot build a vocabulary: the texts contain no tokens.")
        counts.update({ngram: count for ngram, count in ngram_counts.items() if count >= max(2, min_count)})
        vocabulary = Vocabulary.build(counts, min_count=min_count, max_size=max_size)
        return cls(tokenizer, vocabulary, max_length, add_bos, add_eos, truncation, ngrams)

    def encode_one(self, text: str) -> list[int]:
        """Unpadded ids of one text (``<bos>``/``<eos>`` added as configured)."""
        return self.vocabulary.encode(self.tokens(text), self.add_bos, self.add_eos)

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` that become its ids: its words, each followed (``ngrams`` > 1) by the n-grams
        ending at it that the vocabulary holds.

        Example:
            >>> TextEncoder.fit(["a b", "a b"], ngrams=2).tokens("a b c")
            ['a', 'b', 'a b', 'c']
        """
        words = self.tokenizer.tokenize(text)
        if self.ngrams == 1:
            return words
        tokens = []
        for end, word in enumerate(words, start=1):
            tokens.append(word)
            tokens += [ngram for ngram in _ngrams_ending_at(words, end, self.ngrams) if ngram in self.vocabulary]
        return tokens

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Post-padded ``int32`` ids, shape ``(len(texts), length)``, packed by `pack_ids` (an over-long text
        keeps its ``<bos>``/``<eos>``); an empty text without markers is all padding.

        Example:
            >>> encoder = TextEncoder.fit(["a b c"], max_length=4, add_bos=True, add_eos=True)
            >>> encoder.encode(["a b c", ""]).tolist()
            [[2, 4, 5, 3], [2, 3, 0, 0]]
            >>> encoder = TextEncoder.fit(["a b c d e f g h"], max_length=4, truncation="middle")
            >>> encoder.decode(encoder.encode(["a b c d e f g h"])[0])
            'a f g h'
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts; wrap a single text in a list.")
        sequences = []
        for position, text in enumerate(texts):
            try:
                sequences.append(self.vocabulary.encode(self.tokens(text)))
            except TypeError as error:
                raise TypeError(f"Text #{position}: {error}") from None
        vocabulary = self.vocabulary
        if self.truncation == "middle":
            sequences = [self.truncated(ids) for ids in sequences]
        return pack_ids(sequences, self.max_length, vocabulary.bos_id if self.add_bos else None,
                        vocabulary.eos_id if self.add_eos else None)

    def truncated(self, items: Sequence) -> list:
        """The part of one text's tokens (or ids) that `encode` keeps: all of them when they fit in
        ``max_length`` beside the markers, else the head (``truncation="end"``) or the first quarter and the
        last three quarters (``"middle"``).

        Example:
            >>> encoder = TextEncoder.fit(["a"], max_length=4, truncation="middle")
            >>> encoder.truncated(list("abcdefgh")), encoder.truncated(list("ab"))
            (['a', 'f', 'g', 'h'], ['a', 'b'])
        """
        items = list(items)
        if self.max_length is None or len(items) <= self.max_length - self.add_bos - self.add_eos:
            return items
        words = self.max_length - self.add_bos - self.add_eos
        head = words // 4 if self.truncation == "middle" else words
        return items[:head] + items[len(items) - (words - head):]

    def decode(self, ids: Iterable[int]) -> str:
        """Text for ``ids`` (stops at ``<eos>``, drops padding and n-grams)."""
        tokens = self.vocabulary.decode(ids)
        if self.ngrams > 1:
            tokens = [token for token in tokens if " " not in token]
        return self.tokenizer.detokenize(tokens)

    def get_config(self) -> dict:
        return {
            "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
            "vocabulary": keras.saving.serialize_keras_object(self.vocabulary),
            "max_length": self.max_length,
            "add_bos": self.add_bos,
            "add_eos": self.add_eos,
            "truncation": self.truncation,
            "ngrams": self.ngrams,
        }

    @classmethod
    def from_config(cls, config: dict) -> TextEncoder:
        config = dict(config)
        config["tokenizer"] = keras.saving.deserialize_keras_object(config["tokenizer"])
        config["vocabulary"] = keras.saving.deserialize_keras_object(config["vocabulary"])
        return cls(**config)


def _ngrams_ending_at(words: Sequence[str], end: int, longest: int) -> list[str]:
    """The n-grams of 2 to ``longest`` words that end just before ``words[end]``, shortest first."""
    return [" ".join(words[end - length:end]) for length in range(2, min(longest, end) + 1)]
