"""A classifier's training and evaluation examples as given (texts and labels, or one `LabeledTexts`), checked
and taken apart, and a stratified hold-out of them for validation.

Example:
    >>> texts_and_labels(["good", "bad"], ["pos", "neg"])
    (['good', 'bad'], ['pos', 'neg'])
"""

from __future__ import annotations

from collections.abc import Sequence

from textmodels.classification.label_encoding import is_label_set
from textmodels.data.labeled_texts import LabeledTexts


def texts_and_labels(texts: Sequence[str] | LabeledTexts, labels: Sequence | None = None) -> tuple[list[str], list]:
    """``(texts, labels)`` as lists from ``texts`` and ``labels`` or from one `LabeledTexts`; `TypeError` or
    `ValueError` for anything else (one string, mismatched lengths, no examples, a text that is not a string).

    Example:
        >>> try:
        ...     texts_and_labels(["a", "b"], ["x"])
        ... except ValueError as error:
        ...     print(error)
        Got 2 texts but 1 labels.
    """
    if isinstance(texts, LabeledTexts):
        if labels is not None:
            raise ValueError("Pass either a LabeledTexts or texts and labels, not both.")
        return list(texts.texts), list(texts.labels)
    if labels is None:
        raise ValueError("labels are required (or pass one LabeledTexts).")
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string.")
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels.")
    if not texts:
        raise ValueError("No examples given.")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"Text #{position} is {type(text).__name__}, not str.")
    return texts, labels


def validation_texts_and_labels(validation: LabeledTexts | tuple[Sequence[str], Sequence]) -> tuple[list[str], list]:
    """`texts_and_labels` of ``validation``: a `LabeledTexts` or a ``(texts, labels)`` tuple.

    Example:
        >>> validation_texts_and_labels((("fine",), ("pos",)))
        (['fine'], ['pos'])
    """
    if isinstance(validation, LabeledTexts):
        return texts_and_labels(validation)
    if isinstance(validation, tuple) and len(validation) == 2:
        return texts_and_labels(*validation)
    raise TypeError("validation must be a LabeledTexts or a (texts, labels) tuple.")


def hold_out(texts: list[str], labels: list, fraction: float, validation=None, seed: int = 0):
    """``((train texts, train labels), validation)``: with ``validation`` given, the examples and it unchanged;
    else ``fraction`` (0 to <1) of the examples held out as ``(texts, labels)``, stratified by label (single-label
    problems), seeded; None when that leaves no example.

    Example:
        >>> (train, validation) = hold_out(["a", "b", "c", "d"] * 5, ["x", "y"] * 10, 0.2)
        >>> len(train[0]), len(validation[0]), sorted(set(validation[1]))
        (16, 4, ['x', 'y'])
        >>> hold_out(["a", "b"], ["x", "y"], 0.2, validation=(["c"], ["x"]))
        ((['a', 'b'], ['x', 'y']), (['c'], ['x']))
    """
    from textmodels.data.splits import train_val_test_split
    from textmodels.errors import DROPOUT_RATE, check

    check("validation_fraction", fraction, DROPOUT_RATE)
    if validation is not None or fraction == 0:
        return (texts, labels), validation
    stratify = None if any(is_label_set(label) for label in labels) else [str(label) for label in labels]
    train_ids, val_ids, _ = train_val_test_split(len(texts), (1 - fraction, fraction, 0.0), seed=seed,
                                                 stratify_labels=stratify)
    if not len(val_ids) or not len(train_ids):
        return (texts, labels), None
    return ([texts[i] for i in train_ids], [labels[i] for i in train_ids]), \
        ([texts[i] for i in val_ids], [labels[i] for i in val_ids])
