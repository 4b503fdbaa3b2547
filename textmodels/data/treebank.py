"""POS-tagged sentences of NLTK's Penn Treebank sample, read through NLTK's own corpus reader.

The zip is read in place through a `ZipFilePathPointer`, the pointer `nltk.data.find` returns for a
``corpora/treebank.zip`` on ``nltk.data.path``; NLTK only opens files under folders on that path, so the
zip's folder is added to it while reading and removed afterwards. Without a path, the installed NLTK data is
used and, when absent, downloaded with `nltk.download` after a fast reachability check.

Example:
    >>> import tempfile, pathlib, zipfile
    >>> from textmodels.data.treebank import read_treebank_pos
    >>> archive = pathlib.Path(tempfile.mkdtemp()) / "treebank.zip"
    >>> with zipfile.ZipFile(archive, "w") as zipped:
    ...     zipped.writestr("treebank/combined/wsj_0001.mrg", "( (S (NP (NNP Pierre)) (VP (VBD left))) )")
    >>> read_treebank_pos(archive)
    [[('Pierre', 'NNP'), ('left', 'VBD')]]
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from textmodels.data.network import require_network
from textmodels.errors import DataError

TRACE_TAG = "-NONE-"
_FILE_PATTERN = r"wsj_.*\.mrg"
_NLTK_RESOURCE = "corpora/treebank/combined/"
_NLTK_DOWNLOAD_HOST = "raw.githubusercontent.com"

TaggedSentence = list[tuple[str, str]]


def read_treebank_pos(
    path: str | Path | None = None, fileids: Sequence[str] | None = None
) -> list[TaggedSentence]:
    """(word, tag) sentences from the ``treebank/combined/wsj_*.mrg`` parses, without ``-NONE-`` traces.

    ``path`` is NLTK's ``treebank.zip``, an extracted ``treebank/`` folder, or None for NLTK's installed data
    (downloaded when missing, which needs network access). ``fileids`` (see `treebank_fileids`) restricts the
    result to those files, so held-out sets can be split by file.

    Example:
        >>> import tempfile, pathlib, zipfile
        >>> from textmodels.data.treebank import read_treebank_pos
        >>> archive = pathlib.Path(tempfile.mkdtemp()) / "treebank.zip"
        >>> with zipfile.ZipFile(archive, "w") as zipped:
        ...     zipped.writestr("treebank/combined/wsj_0001.mrg", "( (S (NP (PRP It)) (VP (VBZ rains))) )")
        ...     zipped.writestr("treebank/combined/wsj_0002.mrg", "( (S (NP (-NONE- *)) (VP (VB go))) )")
        >>> read_treebank_pos(archive, fileids=["wsj_0002.mrg"])
        [[('go', 'VB')]]
    """
    with _corpus_reader(path) as reader:
        available = reader.fileids()
        chosen = available if fileids is None else list(fileids)
        unknown = sorted(set(chosen) - set(available))
        if unknown:
            raise DataError(f"{reader.root}: unknown fileids {unknown[:5]}; available e.g. {available[:3]}")
        return [sentence for fileid in chosen for sentence in _tagged_sentences(reader, fileid) if sentence]


def treebank_fileids(path: str | Path | None = None) -> list[str]:
    """The sorted ``wsj_*.mrg`` file ids, for splitting held-out sentences by file.

    Example:
        >>> import tempfile, pathlib, zipfile
        >>> from textmodels.data.treebank import treebank_fileids
        >>> archive = pathlib.Path(tempfile.mkdtemp()) / "treebank.zip"
        >>> with zipfile.ZipFile(archive, "w") as zipped:
        ...     zipped.writestr("treebank/combined/wsj_0002.mrg", "( (X (NN a)) )")
        ...     zipped.writestr("treebank/combined/wsj_0001.mrg", "( (X (NN b)) )")
        >>> treebank_fileids(archive)
        ['wsj_0001.mrg', 'wsj_0002.mrg']
    """
    with _corpus_reader(path) as reader:
        return sorted(reader.fileids())


def _tagged_sentences(reader, fileid: str) -> list[TaggedSentence]:
    # NLTK's reader skips what it cannot parse instead of raising, so a file without a single tagged
    # sentence is the sign of a broken or foreign file.
    tagged = reader.tagged_sents(fileid)
    sentences = [[(word, tag) for word, tag in sentence if tag != TRACE_TAG] for sentence in tagged]
    if not any(sentences):
        raise DataError(f"{reader.root}/{fileid}: no tagged sentences; not a bracketed parse file")
    return sentences


@contextmanager
def _corpus_reader(path: str | Path | None) -> Iterator:
    from nltk.corpus.reader import BracketParseCorpusReader

    if path is None:
        root = _installed_nltk_root()
        yield BracketParseCorpusReader(root, _FILE_PATTERN)
        return
    path = Path(path).absolute()
    # NLTK refuses to open files outside the folders on nltk.data.path, so the data's own folder is
    # allowed while this reader is in use; callers read everything inside the `with`.
    with _allowed_by_nltk(path.parent):
        yield BracketParseCorpusReader(_root_pointer(path), _FILE_PATTERN)


@contextmanager
def _allowed_by_nltk(folder: Path) -> Iterator[None]:
    import nltk

    entry = str(folder)
    added = entry not in nltk.data.path
    if added:
        nltk.data.path.append(entry)
    try:
        yield
    finally:
        if added:
            nltk.data.path.remove(entry)


def _root_pointer(path: Path):
    from nltk.data import FileSystemPathPointer, ZipFilePathPointer

    if not path.exists():
        raise DataError(f"{path}: no such treebank zip or folder")
    if path.is_dir():
        for folder in (path / "treebank" / "combined", path / "combined", path):
            if any(folder.glob("wsj_*.mrg")):
                return FileSystemPathPointer(str(folder))
        raise DataError(f"{path}: no wsj_*.mrg files in it, nor in its combined/ or treebank/combined/")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: expected NLTK's treebank.zip or an extracted treebank folder")
    with zipfile.ZipFile(path) as archive:
        parses = [PurePosixPath(name) for name in archive.namelist() if name.endswith(".mrg")]
    if not parses:
        raise DataError(f"{path}: the zip holds no .mrg parse files")
    folder = min(parse.parent for parse in parses)
    return ZipFilePathPointer(str(path), "" if folder == PurePosixPath(".") else f"{folder}/")


def _installed_nltk_root():
    import nltk

    try:
        return nltk.data.find(_NLTK_RESOURCE)
    except LookupError:
        require_network(
            _NLTK_DOWNLOAD_HOST,
            what="the NLTK treebank sample",
            alternative="Pass path= a local treebank.zip (e.g. <shared data>/nltk/treebank.zip).",
        )
        if not nltk.download("treebank", quiet=True, raise_on_error=True):
            raise DataError("nltk.download('treebank') did not install the treebank sample") from None
        return nltk.data.find(_NLTK_RESOURCE)
