"""Language-model corpora: PTB-style word tokens with ``<eos>`` line ends, characters, or sentences per line.

Example:
    >>> import tempfile, pathlib
    >>> from textmodels.data.ptb import read_lm_corpus
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "ptb.valid.txt"
    >>> _ = file.write_text(" the cat sat \\n on the mat \\n")
    >>> read_lm_corpus(file)
    ['the', 'cat', 'sat', '<eos>', 'on', 'the', 'mat', '<eos>']
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from textmodels.data.errors import DataError
from textmodels.data.text_files import decode_text, read_bytes

EOS = "<eos>"


def read_lm_corpus(
    path: str | Path, level: Literal["word", "char"] = "word", encoding: str = "utf-8"
) -> list[str]:
    """The corpus as one token stream: whitespace-split words with an `EOS` after each non-blank line
    (``level="word"``, the Mikolov PTB convention), or every character, newlines included (``level="char"``).

    An empty corpus, or bytes that are not valid ``encoding``, raise `DataError` naming the file (and the line
    and byte offset).

    Example:
        >>> import tempfile, pathlib
        >>> from textmodels.data.ptb import read_lm_corpus
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "input.txt"
        >>> _ = file.write_text("To be\\n")
        >>> read_lm_corpus(file, level="char")
        ['T', 'o', ' ', 'b', 'e', '\\n']
    """
    text = _read_corpus(path, encoding)
    if level == "word":
        return [token for line in text.split("\n") if line.strip() for token in (*line.split(), EOS)]
    if level == "char":
        return list(text)
    raise ValueError(f"level must be 'word' or 'char', got {level!r}")


def read_ptb(path: str | Path) -> list[str]:
    """Word tokens of a Mikolov PTB file (``ptb.train.txt`` ...), each line ending in `EOS`.

    Example:
        >>> import tempfile, pathlib
        >>> from textmodels.data.ptb import read_ptb
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "ptb.test.txt"
        >>> _ = file.write_text(" no it was n't black monday \\n")
        >>> read_ptb(file)[-2:]
        ['monday', '<eos>']
    """
    return read_lm_corpus(path, level="word")


def read_lm_lines(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """The non-blank lines, stripped: one training sequence per sentence.

    Example:
        >>> import tempfile, pathlib
        >>> from textmodels.data.ptb import read_lm_lines
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "lines.txt"
        >>> _ = file.write_text(" a b \\n\\n c \\n")
        >>> read_lm_lines(file)
        ['a b', 'c']
    """
    return [line.strip() for line in _read_corpus(path, encoding).split("\n") if line.strip()]


def _read_corpus(path: str | Path, encoding: str) -> str:
    text = decode_text(read_bytes(path), str(path), encoding)
    if not text.strip():
        raise DataError(f"{path}: the corpus is empty")
    return text
