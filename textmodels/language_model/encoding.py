"""Language-model data: corpus text -> token ids, cut into TBPTT stream windows or padded sentences.

Two regimes:

* ``"stream"``: the whole corpus is one token sequence (word level: every non-blank line ends in ``<eos>``, the
  Penn Treebank convention; char level: every character, newlines included). It is cut into ``batch_size``
  parallel streams and windows of ``num_steps`` tokens; batch ``i`` holds window ``i`` of every stream, so a
  recurrent state carried from batch to batch continues each stream exactly.
* ``"sentences"``: one sentence per line, each wrapped in ``<bos>`` ... ``<eos>`` and post-padded with 0.

Example:
    >>> import numpy as np
    >>> x, y = stream_windows(np.arange(1, 12), batch_size=2, num_steps=2)
    >>> x.tolist()  # rows: (window 0, stream 0), (window 0, stream 1), (window 1, stream 0), ...
    [[1, 2], [6, 7], [3, 4], [8, 9]]
    >>> y.tolist()
    [[2, 3], [7, 8], [4, 5], [9, 10]]
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from textmodels.data.errors import DataError
from textmodels.data.text_files import decode_text, read_bytes
from textmodels.text import EOS, CharTokenizer, TextEncoder, Vocabulary, WordTokenizer

LEVELS = ("word", "char")
REGIMES = ("stream", "sentences")
WORD_TOKENIZERS = ("whitespace", "treebank")


class CorpusError(DataError):
    """A corpus that cannot train or evaluate a language model (empty, too short for one window, no tokens).

    Example:
        >>> isinstance(CorpusError("corpus.txt: the corpus is empty"), ValueError)
        True
    """


def read_corpus_text(path: str | Path, encoding: str = "utf-8", errors: str = "strict") -> str:
    """The text of the corpus file at ``path``.

    Raises `CorpusError` for a missing or empty file, and `DataError` naming the line and byte offset when the
    bytes are not valid ``encoding`` (``errors="replace"`` substitutes U+FFFD instead).

    Example:
        >>> import tempfile, pathlib
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "bad.txt"
        >>> _ = file.write_bytes(b"ok\\n\\xffno")
        >>> try:
        ...     read_corpus_text(file)
        ... except ValueError as error:
        ...     print(str(error).split(":")[1].strip())
        byte offset 3 is not valid utf-8 (invalid start byte); pass errors='replace' to substitute such bytes, or the file's real encoding (e.g. encoding='latin-1')
    """
    text = decode_text(read_bytes(path), str(path), encoding, errors)
    if not text.strip():
        raise CorpusError(f"{path}: the corpus is empty")
    return text


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
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if level == "char":
        return CharTokenizer(lowercase=lowercase)
    if word_tokenizer == "whitespace":
        return WordTokenizer(lowercase=lowercase, method="regexp", pattern=r"\S+")
    if word_tokenizer == "treebank":
        return WordTokenizer(lowercase=lowercase, method="treebank")
    raise ValueError(f"word_tokenizer must be one of {', '.join(WORD_TOKENIZERS)}, got {word_tokenizer!r}")


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
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {', '.join(REGIMES)}, got {regime!r}")
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

    Sentences longer than ``max_length`` tokens (``<bos>``/``<eos>`` included) are truncated.

    Example:
        >>> encoder = fit_lm_encoder("a b\\nb\\n", regime="sentences")
        >>> encode_sentences("a b\\nb\\n", encoder).tolist()
        [[2, 5, 4, 3], [2, 4, 3, 0]]
    """
    sequences = [
        encoder.vocabulary.encode(tokens, add_bos=True, add_eos=True)
        for tokens in text_tokens(text, encoder, "sentences")
    ]
    if not sequences:
        raise CorpusError("The text contains no sentences.")
    length = max(len(sequence) for sequence in sequences)
    if max_length is not None:
        length = min(length, max_length)
    out = np.zeros((len(sequences), length), dtype="int32")
    for row, sequence in enumerate(sequences):
        kept = sequence[:length]
        out[row, : len(kept)] = kept
    return out


def stream_windows(ids: np.ndarray, batch_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-token targets for truncated BPTT, both ``(windows * batch_size, num_steps)``.

    The ids are cut into ``batch_size`` contiguous streams of equal length (the last few tokens that do not
    fill a stream are dropped, as in Zaremba et al.); row ``w * batch_size + s`` is window ``w`` of stream
    ``s``. Feed the rows in order, ``batch_size`` at a time, carrying the recurrent state.

    Raises `CorpusError` when the corpus cannot fill one window of every stream.

    Example:
        >>> x, y = stream_windows(np.arange(10), batch_size=3, num_steps=3)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    """
    ids = np.asarray(ids, dtype="int32")
    if batch_size < 1 or num_steps < 1:
        raise ValueError(f"batch_size and num_steps must be >= 1, got {batch_size} and {num_steps}")
    needed = batch_size * num_steps + 1
    if ids.ndim != 1 or len(ids) < needed:
        raise CorpusError(
            f"The corpus has {ids.size} tokens, shorter than one window: batch_size x num_steps + 1 = "
            f"{batch_size} x {num_steps} + 1 = {needed} tokens are needed; use a smaller batch size or "
            f"fewer steps, or a longer corpus."
        )
    stream_length = (len(ids) - 1) // batch_size
    windows = stream_length // num_steps
    used = windows * num_steps
    inputs = ids[: batch_size * stream_length].reshape(batch_size, stream_length)[:, :used]
    targets = ids[1 : batch_size * stream_length + 1].reshape(batch_size, stream_length)[:, :used]

    def arrange(streams):
        # (B, W*T) -> (W, B, T) -> (W*B, T): consecutive batches continue each stream.
        return streams.reshape(batch_size, windows, num_steps).transpose(1, 0, 2).reshape(-1, num_steps)

    return arrange(inputs), arrange(targets)


def sentence_pairs(sentences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (all but the last position) and next-token targets (all but ``<bos>``) of padded sentences.

    Targets are 0 (ignored by the loss) where the input is padding.

    Example:
        >>> x, y = sentence_pairs(np.array([[2, 5, 3, 0]]))
        >>> x.tolist(), y.tolist()
        ([[2, 5, 3]], [[5, 3, 0]])
    """
    if sentences.shape[1] < 2:
        raise CorpusError("Sentences need at least two tokens (<bos> and <eos>) to train on.")
    return sentences[:, :-1], sentences[:, 1:]
