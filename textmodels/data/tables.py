"""CSV/TSV tables of ``text, label`` rows, such as GLUE SST-2.

Example:
    >>> import tempfile, pathlib
    >>> from textmodels.data.tables import read_table
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "reviews.tsv"
    >>> _ = file.write_text("sentence\\tlabel\\ngreat film\\t1\\ndull\\t0\\n")
    >>> read_table(file, text_column="sentence").labels
    ['1', '0']
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

from textmodels.data.labeled_texts import LabeledTexts
from textmodels.data.text_files import decode_text, read_bytes
from textmodels.errors import ConfigurationError, DataError

Column = str | int

# Cells that, in the label column's first row, can only be a header.
_HEADER_WORDS = frozenset({"label", "labels", "class", "category", "target", "sentiment", "polarity", "y"})
# Enough rows to judge what labels look like without scanning a large file twice.
_HEADER_SAMPLE_ROWS = 1000
_DELIMITERS_BY_SUFFIX = {".tsv": "\t", ".tab": "\t", ".csv": ","}


def read_table(
    path: str | Path,
    text_column: Column = "text",
    label_column: Column = "label",
    delimiter: str | None = None,
    header: bool | Literal["auto"] = "auto",
    encoding: str = "utf-8",
    errors: str = "strict",
) -> LabeledTexts:
    """Texts and labels from a CSV or TSV file; columns by header name or 0-based index.

    ``delimiter`` defaults to a tab for ``.tsv``, a comma for ``.csv`` and otherwise to a tab when the first
    line holds one. ``header="auto"`` assumes a header when a column is named, and otherwise when the first
    row's label cell is a header word or unlike the labels below it (for tiny files pass ``header`` outright).
    Text and label cells are stripped; blank lines are skipped. Bytes that are not valid ``encoding`` raise
    `DataError` naming the line; ``errors="replace"`` reads such files anyway.

    Example:
        >>> import tempfile, pathlib
        >>> from textmodels.data.tables import read_table
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
        >>> _ = file.write_text('"good, really",pos\\nbad,neg\\n')
        >>> data = read_table(file, text_column=0, label_column=1, header=False)
        >>> data.texts, data.labels
        (['good, really', 'bad'], ['pos', 'neg'])
    """
    path = Path(path)
    content = decode_text(read_bytes(path), str(path), encoding, errors).removeprefix("\ufeff")
    if not content.strip():
        raise DataError(f"{path}: file is empty")
    delimiter = delimiter or _guess_delimiter(path, content)
    rows = _parse_rows(path, content, delimiter)

    has_header = _decide_header(path, rows, text_column, label_column, header)
    first_row = rows[0][1]
    names = [name.strip() for name in first_row] if has_header else None
    text_index = _column_index(path, text_column, "text", names, len(first_row))
    label_index = _column_index(path, label_column, "label", names, len(first_row))

    body = rows[1:] if has_header else rows
    if not body:
        raise DataError(f"{path}: no data rows after the header")
    needed = max(text_index, label_index) + 1
    texts, labels = [], []
    for line, row in body:
        if len(row) < needed:
            raise DataError(
                f"{path}, line {line}: expected at least {needed} fields separated by {delimiter!r}, "
                f"found {len(row)}"
            )
        label = row[label_index].strip()
        if not label:
            raise DataError(f"{path}, line {line}: empty label")
        texts.append(row[text_index].strip())
        labels.append(label)
    return LabeledTexts(texts=texts, labels=labels)


def read_sst2(path: str | Path) -> LabeledTexts:
    """GLUE SST-2 ``train.tsv`` / ``dev.tsv`` (``sentence<TAB>label`` with a header); labels ``"0"``/``"1"``.

    Example:
        >>> import tempfile, pathlib
        >>> from textmodels.data.tables import read_sst2
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
        >>> _ = file.write_text("sentence\\tlabel\\nit 's a charming journey . \\t1\\n")
        >>> read_sst2(file).texts
        ["it 's a charming journey ."]
    """
    return read_table(path, text_column="sentence", label_column="label", delimiter="\t", header=True)


def _guess_delimiter(path: Path, content: str) -> str:
    by_suffix = _DELIMITERS_BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    first_line = content.lstrip("\r\n").split("\n", 1)[0]
    return "\t" if "\t" in first_line else ","


def _parse_rows(path: Path, content: str, delimiter: str) -> list[tuple[int, list[str]]]:
    # TSV files such as SST-2 contain bare quote characters that are text, not quoting.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, quoting=quoting)
    rows = []
    start = 1  # the line where the row being read begins: where an unclosed quote opened
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
            if reader.line_num > start and any("\n" in cell for cell in row) and _quote_never_closes(
                    content, start, delimiter):
                raise DataError(f"{path}, line {start}: a quote opens a field here and never closes")
            start = reader.line_num + 1
    except csv.Error as error:
        raise DataError(f"{path}, line {start}: {error}") from error
    return rows


def _quote_never_closes(content: str, start: int, delimiter: str) -> bool:
    """Whether the row beginning at line ``start`` (1-based) runs to the end of ``content`` inside a quote. The
    lenient reader then returns the rest of the file as one field; the strict one says so."""
    rest = io.StringIO("".join(content.splitlines(keepends=True)[start - 1:]), newline="")
    try:
        next(csv.reader(rest, delimiter=delimiter, strict=True), None)
    except csv.Error:
        return True
    return False


def _decide_header(
    path: Path,
    rows: list[tuple[int, list[str]]],
    text_column: Column,
    label_column: Column,
    header: bool | Literal["auto"],
) -> bool:
    named = isinstance(text_column, str) or isinstance(label_column, str)
    if header == "auto":
        return named or _looks_like_header(rows, label_column)
    if header not in (True, False):
        raise ConfigurationError(f"header must be True, False or 'auto', got {header!r}")
    if named and not header:
        raise DataError(
            f"{path}: columns given by name ({text_column!r}, {label_column!r}) need a header row; "
            f"pass 0-based column indices with header=False"
        )
    return header


def _looks_like_header(rows: list[tuple[int, list[str]]], label_index: int) -> bool:
    first_row = rows[0][1]
    if label_index >= len(first_row):
        return False
    first = first_row[label_index].strip()
    if first.lower() in _HEADER_WORDS:
        return True
    others = [row[label_index].strip() for _, row in rows[1:_HEADER_SAMPLE_ROWS] if len(row) > label_index]
    if not others:
        return False
    if all(_is_number(value) for value in others):
        return not _is_number(first)
    distinct = set(others)
    # Labels repeat; a first cell that is unlike every repeating label below it is a column name.
    return first not in distinct and len(distinct) <= max(1, len(others) // 2)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _column_index(path: Path, column: Column, role: str, names: list[str] | None, width: int) -> int:
    if isinstance(column, str):
        if column not in names:
            raise DataError(f"{path}: no {role} column {column!r}; available columns: {names}")
        return names.index(column)
    if not 0 <= column < width:
        available = names if names is not None else f"indices 0..{width - 1}"
        raise DataError(
            f"{path}: {role} column index {column} is out of range; the first row has {width} "
            f"columns: {available}"
        )
    return column
