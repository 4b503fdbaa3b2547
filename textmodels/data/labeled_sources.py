"""One entry point that reads labelled texts from whatever the user points at: a CSV/TSV file, a folder or zip
with one sub-folder per class (NLTK movie_reviews), the MR ``rt-polarity`` files, or ``tfds:NAME[:SPLIT]``.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
    >>> _ = path.write_text("sentence\\tlabel\\nfine\\t1\\nbad\\t0\\n")
    >>> read_labeled_source(path).labels
    ['1', '0']
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from textmodels.data.folders import read_class_folders
from textmodels.data.labeled_texts import LabeledTexts
from textmodels.data.polarity import read_sentence_polarity
from textmodels.data.tables import read_table
from textmodels.data.text_files import decode_text, read_bytes
from textmodels.data.tfds_text import load_tfds_text
from textmodels.errors import DataError

TFDS_PREFIX = "tfds:"
# Header names tried, in order, when no text column is given.
TEXT_COLUMN_NAMES = ("text", "sentence", "review", "document", "content")
LABEL_COLUMN_NAMES = ("label", "labels", "class", "category", "target", "sentiment", "polarity", "y")


def read_labeled_source(
    source: str | Path,
    text_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
    header: bool | Literal["auto"] = "auto",
    encoding: str = "utf-8",
    errors: str = "strict",
    label_separator: str | None = None,
    tfds_data_dir: str | None = None,
) -> LabeledTexts:
    """Labelled texts from ``source`` (see the module docstring for the accepted kinds).

    Tables: with no columns given, a header naming a text column (``text``, ``sentence``, ...) and a label
    column (``label``, ``class``, ...) is used when present, else column 0 is the text and column 1 the label.
    ``label_separator`` (e.g. ``"|"``) splits label cells into label lists, for multi-label data.
    Every problem raises `DataError` naming the file (and line).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tags.csv"
        >>> _ = path.write_text("text,label\\nfun and scary,comedy|horror\\n")
        >>> read_labeled_source(path, label_separator="|").labels
        [['comedy', 'horror']]
    """
    source_text = str(source)
    if source_text.startswith(TFDS_PREFIX):
        name, _, split = source_text[len(TFDS_PREFIX):].partition(":")
        data = load_tfds_text(name, split or "train", data_dir=tfds_data_dir)
    else:
        data = _read_path(Path(source), text_column, label_column, delimiter, header, encoding, errors)
    if not len(data):
        raise DataError(f"{source}: no examples")
    if label_separator:
        labels = [[part.strip() for part in label.split(label_separator) if part.strip()] for label in data.labels]
        data = LabeledTexts(data.texts, labels)
    return data


def _read_path(path: Path, text_column, label_column, delimiter, header, encoding, errors) -> LabeledTexts:
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir() or zipfile.is_zipfile(path):
        if _holds_polarity_files(path):
            return read_sentence_polarity(path)
        return read_class_folders(path, encoding=encoding, errors=errors)
    if text_column is None and label_column is None:
        text_column, label_column = _guess_columns(path, delimiter, encoding, errors)
    return read_table(
        path,
        text_column=0 if text_column is None else text_column,
        label_column=1 if label_column is None else label_column,
        delimiter=delimiter,
        header=header,
        encoding=encoding,
        errors=errors,
    )


def _holds_polarity_files(path: Path) -> bool:
    if path.is_dir():
        return any(path.glob("rt-polarity.pos")) or any(path.glob("*/rt-polarity.pos"))
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("rt-polarity.pos") for name in archive.namelist())


def _guess_columns(path: Path, delimiter, encoding, errors) -> tuple[str | int, str | int]:
    content = decode_text(read_bytes(path), str(path), encoding, errors).removeprefix("\ufeff")
    first_line = next((line for line in content.splitlines() if line.strip()), "")
    if not first_line:
        raise DataError(f"{path}: file is empty")
    separator = delimiter or ("\t" if path.suffix.lower() in (".tsv", ".tab") or "\t" in first_line else ",")
    names = [cell.strip().strip('"') for cell in first_line.split(separator)]
    lowered = [name.lower() for name in names]
    text = next((names[lowered.index(n)] for n in TEXT_COLUMN_NAMES if n in lowered), None)
    label = next((names[lowered.index(n)] for n in LABEL_COLUMN_NAMES if n in lowered), None)
    if text is not None and label is not None:
        return text, label
    if text is not None or label is not None:
        found = text if text is not None else label
        raise DataError(
            f"{path}: the header names {found!r} but not both a text and a label column ({names}); "
            f"pass the columns explicitly"
        )
    return 0, 1
