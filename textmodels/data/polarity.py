"""The MR sentence-polarity corpus: ``rt-polarity.pos`` / ``rt-polarity.neg``, one latin-1 snippet per line.

Example:
    >>> import tempfile, pathlib
    >>> from textmodels.data.polarity import read_sentence_polarity
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "rt-polarity.pos").write_bytes(b"a gem\\n")
    >>> _ = (root / "rt-polarity.neg").write_bytes(b"a mess\\n")
    >>> read_sentence_polarity(root).labels
    ['pos', 'neg']
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from textmodels.data.labeled_texts import LabeledTexts
from textmodels.errors import DataError

LABELS = ("pos", "neg")
# The files were published in latin-1; every byte decodes, so there is no decoding error to report.
_ENCODING = "latin-1"


def read_sentence_polarity(path: str | Path) -> LabeledTexts:
    """The MR snippets labelled ``"pos"`` then ``"neg"``, from a folder or NLTK's ``sentence_polarity.zip``.

    A folder may hold the two files directly or in a ``sentence_polarity/`` sub-folder; blank lines are
    skipped.

    Example:
        >>> import tempfile, pathlib, zipfile
        >>> from textmodels.data.polarity import read_sentence_polarity
        >>> archive = pathlib.Path(tempfile.mkdtemp()) / "sentence_polarity.zip"
        >>> with zipfile.ZipFile(archive, "w") as zipped:
        ...     zipped.writestr("sentence_polarity/rt-polarity.pos", b"fun\\ngreat\\n")
        ...     zipped.writestr("sentence_polarity/rt-polarity.neg", b"dull\\n")
        >>> data = read_sentence_polarity(archive)
        >>> len(data), data.labels.count("pos")
        (3, 2)
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such folder or zip file")
    if path.is_dir():
        raw_by_label = _read_folder(path)
    elif zipfile.is_zipfile(path):
        raw_by_label = _read_zip(path)
    else:
        raise DataError(f"{path}: expected a folder or a zip holding rt-polarity.pos and rt-polarity.neg")

    texts, labels = [], []
    for label in LABELS:
        lines = raw_by_label[label].decode(_ENCODING).splitlines()
        snippets = [line.strip() for line in lines if line.strip()]
        if not snippets:
            raise DataError(f"{path}: rt-polarity.{label} holds no snippets")
        texts.extend(snippets)
        labels.extend([label] * len(snippets))
    return LabeledTexts(texts=texts, labels=labels)


def _read_folder(path: Path) -> dict[str, bytes]:
    for folder in (path, path / "sentence_polarity"):
        files = {label: folder / f"rt-polarity.{label}" for label in LABELS}
        if all(file.is_file() for file in files.values()):
            return {label: file.read_bytes() for label, file in files.items()}
    found = sorted(file.name for file in path.iterdir())[:10]
    raise DataError(f"{path}: rt-polarity.pos and rt-polarity.neg not found; the folder holds {found}")


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        members = {PurePosixPath(name).name: name for name in archive.namelist()}
        missing = [f"rt-polarity.{label}" for label in LABELS if f"rt-polarity.{label}" not in members]
        if missing:
            raise DataError(f"{path}: {missing} not in the zip; it holds {sorted(archive.namelist())[:10]}")
        return {label: archive.read(members[f"rt-polarity.{label}"]) for label in LABELS}
