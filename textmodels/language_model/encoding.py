"""Language-model text -> token ids, in one of two regimes.

* ``"stream"``: the whole corpus is one token sequence (word level: every non-blank line ends in ``<eos>``, the
  Penn Treebank convention; char level: every character, newlines included); `textmodels.data.lm_batches`
  cuts it into truncated-BPTT windows.
* ``"sentences"``: one sentence per line, each packed as ``<bos>`` ... ``<eos>`` and post-padded with 0.

Example:
    >>> encoder = fit_lm_encoder("the cat sat\\nthe dog\\n")
    >>> encode_stream("the dog sat\\n", encoder).tolist()
    [4, 6, 7, 3]
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from textmodels.errors import CorpusError, check_choice
from textmodels.text import EOS, CharTokenizer, TextEncoder, Vocabulary, WordTokenizer, pack_ids

LEVELS = ("word", "char")
REGIMES = ("stream", "sentences")
WORD_TOKENIZERS = ("whitespace", "treebank")


def make_tokenizer(level: str, word_tokenizer: str = "whitespace", lowercase: bool = False):
    """The tokenizer for a language model.

    ``word_tokenizer="whitespace"`` splits on whitespace only (the text is taken as already tokenized, as PTB
    is, so a literal ``<unk>`` stays one token); ``"treebank"`` applies Penn Treebank rules to raw text.

    Example:
        >>> make_tokenizer("word").tokenize("the <unk> fell")
        ['the', '<unk>', 'fell']
        >>> make_tokenizer("char").tokenize("ab")
        ['a', 'b']
    """
    check_choice("level", level, LEVELS)
    check_choice("word_tokenizer", word_tokenizer, WORD_TOKENIZERS)
    if level == "char":
        return CharTokenizer(lowercase=lowercase)
    if word_tokenizer == "treebank":
        return WordTokenizer(lowercase=lowercase, method="treebank")
    return WordTokenizer(lowercase=lowercase, method="regexp", pattern=r"\S+")


def is_char_level(encoder: TextEncoder) -> bool:
    """Whether ``encoder`` tokenizes into characters.

    Example:
        >>> is_char_level(fit_lm_encoder("ab", level="char")), is_char_level(fit_lm_encoder("a b"))
        (True, False)
    """
    return isinstance(encoder.tokenizer, CharTokenizer)


def text_tokens(text: str, encoder_or_tokenizer, regime: str = "stream") -> list[list[str]]:
    """Token lists of ``text``: one list holding the whole stream (``regime="stream"``), or one per non-blank
    line (``"sentences"``). Word-level streams end every non-blank line with ``<eos>``.

    Example:
        >>> text_tokens("a b\\n\\nc\\n", make_tokenizer("word"))
        [['a', 'b', '<eos>', 'c', '<eos>']]
        >>> text_tokens("a b\\n\\nc\\n", make_tokenizer("word"), regime="sentences")
        [['a', 'b'], ['c']]
    """
    check_choice("regime", regime, REGIMES)
    tokenizer = getattr(encoder_or_tokenizer, "tokenizer", encoder_or_tokenizer)
    if regime == "sentences":
        return [tokenizer.tokenize(line.strip()) for line in text.split("\n") if line.strip()]
    if isinstance(tokenizer, CharTokenizer):
        return [tokenizer.tokenize(text)]
    return [[token for line in text.split("\n") if line.strip() for token in (*tokenizer.tokenize(line), EOS)]]


def fit_lm_encoder(
    text: str,
    level: str = "word",
    regime: str = "stream",
    word_tokenizer: str = "whitespace",
    lowercase: bool = False,
    min_count: int = 1,
    max_size: int | None = None,
) -> TextEncoder:
    """A `TextEncoder` whose vocabulary holds the tokens of ``text`` (``<eos>``/``<unk>`` map to reserved ids).

    Sentence-regime encoders add ``<bos>``/``<eos>`` around every sentence.

    Example:
        >>> encoder = fit_lm_encoder("to be or not to be\\n", level="word")
        >>> encoder.vocabulary.tokens[4:]
        ['be', 'to', 'not', 'or']
    """
    tokenizer = make_tokenizer(level, word_tokenizer, lowercase)
    counts = Counter(token for tokens in text_tokens(text, tokenizer, regime) for token in tokens)
    if not counts:
        raise CorpusError("Cannot build a vocabulary: the corpus contains no tokens.")
    vocabulary = Vocabulary.build(counts, min_count=min_count, max_size=max_size)
    sentences = regime == "sentences"
    return TextEncoder(tokenizer, vocabulary, add_bos=sentences, add_eos=sentences)


def encode_stream(text: str, encoder: TextEncoder) -> np.ndarray:
    """The ids of ``text`` read as one stream (int32, 1-D); unknown tokens become ``<unk>``.

    Example:
        >>> encoder = fit_lm_encoder("a b\\n")
        >>> encode_stream("a c\\n", encoder).tolist()
        [4, 1, 3]
    """
    (tokens,) = text_tokens(text, encoder, "stream")
    if not tokens:
        raise CorpusError("The text contains no tokens.")
    return np.asarray(encoder.vocabulary.encode(tokens), dtype="int32")


def encode_sentences(text: str, encoder: TextEncoder, max_length: int | None = None) -> np.ndarray:
    """One row per non-blank line: ``<bos>`` ids ``<eos>``, post-padded with 0 (int32, 2-D).

    A sentence longer than ``max_length`` ids (``<bos>``/``<eos>`` included) loses words from its end but keeps
    its ``<eos>`` (`textmodels.text.pack_ids`).

    Example:
        >>> encoder = fit_lm_encoder("a b\\nb\\n", regime="sentences")
        >>> encode_sentences("a b\\nb\\n", encoder).tolist()
        [[2, 5, 4, 3], [2, 4, 3, 0]]
        >>> encode_sentences("a b\\n", encoder, max_length=3).tolist()
        [[2, 5, 3]]
    """
    sequences = [encoder.vocabulary.encode(tokens) for tokens in text_tokens(text, encoder, "sentences")]
    if not sequences:
        raise CorpusError("The text contains no sentences.")
    vocabulary = encoder.vocabulary
    return pack_ids(sequences, max_length, vocabulary.bos_id, vocabulary.eos_id)
