"""Reading and decoding text files so that failures become a `DataError` naming the file, line and byte.

Example:
    >>> from textmodels.data.text_files import decode_text
    >>> decode_text(b"caf\\xc3\\xa9", source="menu.txt")
    'café'
"""

from __future__ import annotations

import sys
from pathlib import Path

from textmodels.errors import CorpusError, DataError


def read_bytes(path: str | Path) -> bytes:
    """The raw contents of the file at ``path``: a regular file, a pipe (``/dev/fd/63`` from ``<(...)``) or
    ``-`` for standard input; `DataError` when it is missing, a folder or unreadable.

    Example:
        >>> import tempfile, pathlib
        >>> from textmodels.data.text_files import read_bytes
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = file.write_bytes(b"hi")
        >>> read_bytes(file)
        b'hi'
    """
    if str(path) == "-":
        return sys.stdin.buffer.read()
    path = Path(path)
    try:
        path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as error:  # ELOOP for a link cycle, EACCES, ...
        raise DataError(f"{path}: cannot open ({error.strerror})") from None
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    return path.read_bytes()


def decode_text(raw: bytes, source: str, encoding: str = "utf-8", errors: str = "strict") -> str:
    """``raw`` decoded; undecodable bytes raise `DataError` naming ``source``, the line and the byte offset.

    ``errors="replace"`` (or a different ``encoding`` such as ``"latin-1"``) reads such files anyway.

    Example:
        >>> from textmodels.data.text_files import decode_text
        >>> decode_text(b"ok\\n\\xff", source="x.txt", errors="replace")
        'ok\\n�'
    """
    try:
        return raw.decode(encoding, errors)
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"{source}, line {line}: byte offset {error.start} is not valid {encoding} ({error.reason}); "
            f"pass errors='replace' to substitute such bytes, or the file's real encoding "
            f"(e.g. encoding='latin-1')"
        ) from error
    except LookupError as error:
        raise DataError(f"{source}: unknown encoding {encoding!r}") from error


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
        ...     print(str(error).split(":")[1].split(";")[0].strip())
        byte offset 3 is not valid utf-8 (invalid start byte)
    """
    text = decode_text(read_bytes(path), str(path), encoding, errors)
    if not text.strip():
        raise CorpusError(f"{path}: the corpus is empty")
    return text
