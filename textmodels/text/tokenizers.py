"""Word and character tokenizers that need no downloaded NLTK data.

`nltk.word_tokenize` needs the punkt sentence model; the Treebank-style `NLTKWordTokenizer` that it wraps
needs nothing, so the word tokenizer uses it directly (or a regular expression, when asked).

Example:
    >>> WordTokenizer().tokenize("A dog's toy, isn't it?")
    ['a', 'dog', "'s", 'toy', ',', 'is', "n't", 'it', '?']
    >>> CharTokenizer().tokenize("Hi!")
    ['H', 'i', '!']
"""

from __future__ import annotations

import keras
from nltk.tokenize import NLTKWordTokenizer, RegexpTokenizer
from nltk.tokenize.treebank import TreebankWordDetokenizer

from textmodels.errors import ConfigurationError

WORD_METHODS = ("treebank", "regexp")
DEFAULT_REGEXP = r"[\w']+|[^\w\s]"


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"Expected text as str, got {type(text).__name__}: {text!r:.60}")
    return text


@keras.saving.register_keras_serializable(package="textmodels")
class WordTokenizer:
    """Splits text into words and punctuation.

    Args:
        lowercase: lower-case the text first.
        method: ``"treebank"`` (Penn Treebank conventions: ``isn't`` -> ``is n't``) or ``"regexp"``.
        pattern: the regular expression for ``method="regexp"`` (matches are tokens).

    Example:
        >>> WordTokenizer(method="regexp").tokenize("It's 2 PM.")
        ["it's", '2', 'pm', '.']
    """

    def __init__(self, lowercase: bool = True, method: str = "treebank", pattern: str = DEFAULT_REGEXP):
        if method not in WORD_METHODS:
            raise ConfigurationError(f"Unknown tokenizer method {method!r}; choose one of {', '.join(WORD_METHODS)}.")
        self.lowercase = lowercase
        self.method = method
        self.pattern = pattern
        self._splitter = NLTKWordTokenizer() if method == "treebank" else RegexpTokenizer(pattern)

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text``; empty or blank text gives ``[]``."""
        text = _check_text(text)
        if self.lowercase:
            text = text.lower()
        return self._splitter.tokenize(text)

    def detokenize(self, tokens: list[str]) -> str:
        """Joins tokens back into readable text (Treebank rules re-attach punctuation and clitics)."""
        if self.method == "treebank":
            return TreebankWordDetokenizer().detokenize(list(tokens))
        return " ".join(tokens)

    def get_config(self) -> dict:
        return {"lowercase": self.lowercase, "method": self.method, "pattern": self.pattern}

    @classmethod
    def from_config(cls, config: dict) -> WordTokenizer:
        return cls(**config)


@keras.saving.register_keras_serializable(package="textmodels")
class CharTokenizer:
    """Splits text into characters (every character, including spaces and newlines, is a token).

    Example:
        >>> tokenizer = CharTokenizer(lowercase=True)
        >>> tokenizer.detokenize(tokenizer.tokenize("Ab c"))
        'ab c'
    """

    def __init__(self, lowercase: bool = False):
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        text = _check_text(text)
        return list(text.lower() if self.lowercase else text)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def get_config(self) -> dict:
        return {"lowercase": self.lowercase}

    @classmethod
    def from_config(cls, config: dict) -> CharTokenizer:
        return cls(**config)


def get_tokenizer(level: str, lowercase: bool | None = None):
    """The tokenizer for ``level`` ``"word"`` (lower-cased by default) or ``"char"`` (case kept by default).

    Example:
        >>> get_tokenizer("char").tokenize("ab")
        ['a', 'b']
    """
    if level == "word":
        return WordTokenizer(lowercase=True if lowercase is None else lowercase)
    if level == "char":
        return CharTokenizer(lowercase=bool(lowercase))
    raise ConfigurationError(f"Unknown tokenization level {level!r}; choose 'word' or 'char'.")
