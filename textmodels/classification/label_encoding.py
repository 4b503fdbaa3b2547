"""A classifier's labels as its network sees them: the problem they make (binary, multi-class, multi-label), the
sorted label names, and the targets (class ids, or one 0/1 column per label) — with `UnknownLabelError` for a
label the model was not trained on.

Example:
    >>> labels = ["pos", "neg", "pos"]
    >>> problem = infer_problem(labels)
    >>> names = label_names(labels, problem)
    >>> problem, names, label_targets(labels, names, problem)[:, 0].tolist()
    ('binary', ['neg', 'pos'], [1.0, 0.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from textmodels.errors import DataError

# The containers that hold one text's several labels (multi-label problems).
LABEL_SETS = (list, tuple, set, frozenset)


class UnknownLabelError(DataError):
    """A label the model was not trained on.

    Example:
        >>> isinstance(UnknownLabelError("Label 'meh' was not seen in training"), ValueError)
        True
    """


def is_label_set(label) -> bool:
    """Whether ``label`` is one text's several labels (a list, tuple or set) rather than one label.

    Example:
        >>> is_label_set(["sport", "news"]), is_label_set("sport")
        (True, False)
    """
    return isinstance(label, LABEL_SETS)


def infer_problem(labels: Iterable) -> str:
    """``multilabel`` when any text has a list of labels, else ``binary`` for 2 distinct labels, else
    ``multiclass``.

    Example:
        >>> infer_problem(["a", "b", "c"]), infer_problem([["a"], ["a", "b"]])
        ('multiclass', 'multilabel')
    """
    labels = list(labels)
    if any(is_label_set(label) for label in labels):
        return "multilabel"
    return "binary" if len({str(label) for label in labels}) == 2 else "multiclass"


def label_names(labels: Iterable, problem: str) -> list[str]:
    """The sorted distinct label names of ``labels``, checked against ``problem``
    (`textmodels.errors.DataError` for too few).

    Example:
        >>> label_names([["b", "a"], ["c"]], "multilabel")
        ['a', 'b', 'c']
    """
    if problem == "multilabel":
        names = sorted({name for position, label in enumerate(labels) for name in _as_label_set(label, position)})
    else:
        names = sorted({str(label) for label in labels})
    if problem == "binary" and len(names) != 2:
        raise DataError(f"problem='binary' needs exactly 2 distinct labels, found {len(names)}: {names[:10]}.")
    if problem == "multiclass" and len(names) < 2:
        raise DataError(f"Training needs at least 2 distinct labels, found {names}.")
    if problem == "multilabel" and not names:
        raise DataError("The multi-label targets name no labels at all.")
    return names


def label_targets(labels: Sequence, names: Sequence[str], problem: str) -> np.ndarray:
    """The network's targets for ``labels``: class ids (``multiclass``), one 0/1 column (``binary``: the second
    name is 1) or a 0/1 column per name (``multilabel``). A label not among ``names`` raises `UnknownLabelError`.

    Example:
        >>> label_targets([["a"], ["a", "b"]], ["a", "b"], "multilabel").tolist()
        [[1.0, 0.0], [1.0, 1.0]]
        >>> label_targets(["b", "a"], ["a", "b"], "multiclass").tolist()
        [1, 0]
    """
    index = {name: position for position, name in enumerate(names)}

    def lookup(label, position):
        if label not in index:
            raise UnknownLabelError(
                f"Label {label!r} (example #{position}) was not seen in training; the model knows {list(names)}."
            )
        return index[label]

    if problem == "multilabel":
        targets = np.zeros((len(labels), len(index)), dtype="float32")
        for position, label_set in enumerate(labels):
            for label in _as_label_set(label_set, position):
                targets[position, lookup(label, position)] = 1.0
        return targets
    for position, label in enumerate(labels):
        if is_label_set(label):
            raise DataError(f"Example #{position} has several labels {list(label)}, but this is a "
                            f"{problem} classifier.")
    ids = np.array([lookup(str(label), position) for position, label in enumerate(labels)], dtype="int32")
    return ids.astype("float32")[:, None] if problem == "binary" else ids


def _as_label_set(labels, position: int) -> list[str]:
    if isinstance(labels, str):
        return [labels]
    if not is_label_set(labels):
        raise TypeError(f"Example #{position}: multi-label targets must be lists of labels, got {labels!r}.")
    return [str(label) for label in labels]
