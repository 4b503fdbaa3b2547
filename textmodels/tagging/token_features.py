"""Per-token input features for tagging: word id, suffix id and orthographic shape id, in one serializable object.

Suffix and shape let a tagger guess the tag of words it never saw in training (``-ly`` adverbs, capitalised
proper nouns, numbers), which is most of the error on held-out text.

Example:
    >>> features = TokenFeatures.fit([["The", "cats", "sat"]])
    >>> features.encode([["the", "dogs"]]).shape
    (1, 2, 3)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import keras
import numpy as np

from textmodels.errors import DataError, check_positive_int
from textmodels.text.tokenizers import WordTokenizer
from textmodels.text.vocabulary import Vocabulary

# Shape ids start at 1: 0 is padding in every feature.
SHAPES = ("lower", "capitalised", "upper", "number", "has_digit", "has_hyphen", "punctuation", "other")
_NUMBER = re.compile(r"^[+-]?[\d.,/:]*\d[\d.,/:]*$")


def word_shape(token: str) -> int:
    """The 1-based index in `SHAPES` of ``token``'s orthographic class.

    Example:
        >>> [SHAPES[word_shape(t) - 1] for t in ("dog", "Paris", "IBM", "3.5", "well-known", ",")]
        ['lower', 'capitalised', 'upper', 'number', 'has_hyphen', 'punctuation']
    """
    if _NUMBER.match(token):
        kind = "number"
    elif any(c.isdigit() for c in token):
        kind = "has_digit"
    elif token.isalpha() and token.islower():
        kind = "lower"
    elif token.isalpha() and token.isupper():
        kind = "upper"
    elif token[:1].isupper():
        kind = "capitalised"
    elif "-" in token and any(c.isalpha() for c in token):
        kind = "has_hyphen"
    elif not any(c.isalnum() for c in token):
        kind = "punctuation"
    else:
        kind = "other"
    return SHAPES.index(kind) + 1


@keras.saving.register_keras_serializable(package="textmodels")
class TokenFeatures:
    """Maps token lists to ``(batch, time, 3)`` int32 arrays of [word id, suffix id, shape id] (0 = padding).

    Args:
        words: vocabulary of (lower-cased, when ``lowercase``) words.
        suffixes: vocabulary of the last ``suffix_length`` characters of lower-cased words.
        suffix_length: how many trailing characters form the suffix.
        lowercase: whether words are lower-cased before lookup (shape keeps the case information).
        max_length: sequences are truncated to this many tokens (None: the longest in the batch).
        tokenizer: splits raw text for `tokenize` (case kept; Treebank conventions like the training data).

    Example:
        >>> features = TokenFeatures.fit([["Dogs", "bark", "loudly"]], min_count=1)
        >>> features.encode([["dogs", "purr"]])[0, :, 0].tolist()  # "purr" is unknown (<unk> = 1)
        [5, 1]
    """

    def __init__(
        self,
        words: Vocabulary,
        suffixes: Vocabulary,
        suffix_length: int = 3,
        lowercase: bool = True,
        max_length: int | None = None,
        tokenizer: WordTokenizer | None = None,
    ):
        check_positive_int("suffix_length", suffix_length)
        self.words = words
        self.suffixes = suffixes
        self.suffix_length = suffix_length
        self.lowercase = lowercase
        self.max_length = max_length
        self.tokenizer = tokenizer or WordTokenizer(lowercase=False)

    @classmethod
    def fit(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_count: int = 1,
        suffix_length: int = 3,
        lowercase: bool = True,
        max_length: int | None = None,
    ) -> TokenFeatures:
        """Builds the word and suffix vocabularies from training sentences."""
        words, suffixes = Counter(), Counter()
        for tokens in token_lists:
            for token in tokens:
                lowered = token.lower()
                words[lowered if lowercase else token] += 1
                suffixes[lowered[-suffix_length:]] += 1
        if not words:
            raise DataError("Cannot build token features: the sentences contain no tokens.")
        return cls(
            Vocabulary.build(words, min_count=min_count),
            Vocabulary.build(suffixes, min_count=min_count),
            suffix_length,
            lowercase,
            max_length,
        )

    @property
    def num_shapes(self) -> int:
        return len(SHAPES) + 1

    def encode(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """``(len(token_lists), length, 3)`` int32, post-padded with zeros."""
        if isinstance(token_lists, str) or (token_lists and isinstance(token_lists[0], str)):
            raise TypeError("encode() takes a list of token lists, e.g. [['The', 'dog']].")
        length = max((len(tokens) for tokens in token_lists), default=1) or 1
        if self.max_length:
            length = min(length, self.max_length)
        out = np.zeros((len(token_lists), length, 3), dtype="int32")
        for row, tokens in enumerate(token_lists):
            for column, token in enumerate(list(tokens)[:length]):
                lowered = token.lower()
                out[row, column] = (
                    self.words[lowered if self.lowercase else token],
                    self.suffixes[lowered[-self.suffix_length:]],
                    word_shape(token),
                )
        return out

    def tokenize(self, text: str) -> list[str]:
        """Tokens of raw ``text`` as the tagger sees them."""
        return self.tokenizer.tokenize(text)

    def get_config(self) -> dict:
        return {
            "words": keras.saving.serialize_keras_object(self.words),
            "suffixes": keras.saving.serialize_keras_object(self.suffixes),
            "suffix_length": self.suffix_length,
            "lowercase": self.lowercase,
            "max_length": self.max_length,
            "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
        }

    @classmethod
    def from_config(cls, config: dict) -> TokenFeatures:
        config = dict(config)
        for key in ("words", "suffixes", "tokenizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
