"""Reading pretrained word vectors in the common text format (GloVe, or word2vec text with its header line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textmodels.errors import TextmodelsError
from textmodels.text.vocabulary import Vocabulary


class VectorsFileError(TextmodelsError, ValueError):
    """A vectors file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class PretrainedVectors:
    """An embedding matrix aligned with a vocabulary, and how much of the vocabulary the file covered."""

    matrix: np.ndarray  # (len(vocabulary), dim); row 0 (<pad>) is zeros
    found: int  # vocabulary words (reserved tokens excluded) that had a vector in the file
    searched: int  # vocabulary words looked up

    @property
    def coverage(self) -> float:
        return self.found / self.searched if self.searched else 0.0


def load_vectors(
    path: str | Path,
    vocabulary: Vocabulary,
    dim: int | None = None,
    seed: int = 0,
    scale: float = 0.25,
) -> PretrainedVectors:
    """Builds an embedding matrix for ``vocabulary`` from a text vectors file.

    Lines are ``word v1 ... v_dim``; a first line of two integers (word2vec's ``count dim`` header) is skipped.
    Words missing from the file get uniform random vectors in [-scale, scale] (Kim 2014); ``<pad>`` is zero.
    A word is looked up as written, then lower-cased.

    Example:
        >>> import tempfile, os
        >>> from textmodels.text import Vocabulary
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
        >>> _ = open(path, "w").write("cat 1 2\\ndog 3 4\\n")
        >>> vectors = load_vectors(path, Vocabulary.build([["cat", "cow"]]))
        >>> vectors.found, vectors.searched, vectors.matrix[4].tolist()
        (1, 2, [1.0, 2.0])
    """
    path = Path(path)
    if not path.is_file():
        raise VectorsFileError(f"Vectors file not found: {path}")
    wanted = {token: index for index, token in enumerate(vocabulary.tokens) if index >= 4}
    lowered = {}
    for token, index in wanted.items():
        lowered.setdefault(token.lower(), []).append(index)
    rows: dict[int, np.ndarray] = {}
    with path.open("rb") as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise VectorsFileError(f"{path}:{line_number}: not valid UTF-8 ({error.reason}).") from None
            fields = line.rstrip("\n\r").rstrip(" ").split(" ")
            if line_number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
                header_dim = int(fields[1])
                if dim is not None and header_dim != dim:
                    raise VectorsFileError(f"{path}:1: header says dimension {header_dim}, expected {dim}.")
                dim = header_dim
                continue
            if not line.strip():
                continue
            if len(fields) < 2:
                raise VectorsFileError(f"{path}:{line_number}: malformed line (a word and numbers expected).")
            word, values = fields[0], fields[1:]
            if dim is None:
                dim = len(values)
            if len(values) != dim:
                raise VectorsFileError(
                    f"{path}:{line_number}: {len(values)} values for {word!r}, expected dimension {dim}."
                )
            # An exact match wins over a lower-cased one that was seen earlier.
            targets = [wanted[word]] if word in wanted else lowered.get(word.lower(), [])
            targets = [index for index in targets if index not in rows or word in wanted]
            if not targets:
                continue
            try:
                vector = np.asarray(values, dtype="float32")
            except ValueError:
                raise VectorsFileError(f"{path}:{line_number}: non-numeric value in the vector for {word!r}.") from None
            for index in targets:
                rows[index] = vector
    if dim is None:
        raise VectorsFileError(f"{path}: no vectors found (empty file).")
    matrix = np.random.default_rng(seed).uniform(-scale, scale, (len(vocabulary), dim)).astype("float32")
    matrix[vocabulary.pad_id] = 0.0
    for index, vector in rows.items():
        matrix[index] = vector
    return PretrainedVectors(matrix=matrix, found=len(rows), searched=len(wanted))
