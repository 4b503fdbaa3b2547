"""Class-per-folder text corpora (one sub-folder of ``.txt`` files per label), from a folder or a zip.

The NLTK ``movie_reviews.zip`` layout (``movie_reviews/pos/*.txt``, ``movie_reviews/neg/*.txt``) is read
straight from the zip, without extracting it.

Example:
    >>> import tempfile, pathlib
    >>> from textmodels.data.folders import read_class_folders
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "pos").mkdir()
    >>> _ = (root / "pos" / "a.txt").write_text("a fine film")
    >>> read_class_folders(root).labels
    ['pos']
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from textmodels.data.labeled_texts import LabeledTexts
from textmodels.data.text_files import decode_text
from textmodels.errors import DataError


def read_class_folders(
    path: str | Path, suffix: str = ".txt", encoding: str = "utf-8", errors: str = "strict"
) -> LabeledTexts:
    """Every ``<class>/*<suffix>`` file under ``path`` (a folder or a zip), labelled by its folder's name.

    In a zip, the class folders may sit under a common root folder (as in NLTK's packages); hidden files and
    ``__MACOSX`` entries are ignored. Examples are ordered by label, then file name. An empty file or bytes
    that are not valid ``encoding`` raise `DataError` naming the file.

    Example:
        >>> import tempfile, pathlib, zipfile
        >>> from textmodels.data.folders import read_class_folders
        >>> archive = pathlib.Path(tempfile.mkdtemp()) / "reviews.zip"
        >>> with zipfile.ZipFile(archive, "w") as zipped:
        ...     zipped.writestr("reviews/neg/1.txt", "dull")
        ...     zipped.writestr("reviews/pos/1.txt", "lovely")
        >>> data = read_class_folders(archive)
        >>> data.texts, data.labels
        (['dull', 'lovely'], ['neg', 'pos'])
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such folder or zip file")
    if path.is_dir():
        documents = _folder_documents(path, suffix)
    elif zipfile.is_zipfile(path):
        documents = _zip_documents(path, suffix)
    else:
        raise DataError(f"{path}: expected a folder of class folders or a zip file")
    if not documents:
        raise DataError(f"{path}: no '<class>/*{suffix}' files found (expected one sub-folder per class)")

    texts, labels = [], []
    for label, source, raw in sorted(documents, key=lambda document: document[:2]):
        text = decode_text(raw, source, encoding, errors).strip()
        if not text:
            raise DataError(f"{source}: empty document")
        texts.append(text)
        labels.append(label)
    return LabeledTexts(texts=texts, labels=labels)


def _folder_documents(path: Path, suffix: str) -> list[tuple[str, str, bytes]]:
    return [
        (folder.name, str(file), file.read_bytes())
        for folder in path.iterdir()
        if folder.is_dir() and not folder.name.startswith(".")
        for file in folder.glob(f"*{suffix}")
        if file.is_file() and not file.name.startswith(".")
    ]


def _zip_documents(path: Path, suffix: str) -> list[tuple[str, str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        members = [
            PurePosixPath(info.filename)
            for info in archive.infolist()
            if not info.is_dir() and info.filename.endswith(suffix) and not _is_hidden(info.filename)
        ]
        nested = [member for member in members if len(member.parts) >= 2]
        roots = {member.parent.parent for member in nested}
        if len(roots) > 1:
            raise DataError(
                f"{path}: class folders sit at different depths ({sorted(map(str, roots))}); expected "
                f"'<class>/*{suffix}' under one common folder"
            )
        return [(member.parent.name, f"{path}[{member}]", archive.read(str(member))) for member in nested]


def _is_hidden(name: str) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(name).parts)
