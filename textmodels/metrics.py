"""Classification metrics in plain NumPy: accuracy, confusion matrix, per-class precision/recall/F1, macro-F1.

Every function takes integer class ids; `classification_report` bundles them with label names into one
JSON-ready dict (what ``textmodels evaluate --json`` prints).

Example:
    >>> report = classification_report([0, 1, 1, 0], [0, 1, 0, 0], ["neg", "pos"])
    >>> report["accuracy"], round(report["macro_f1"], 3)
    (0.75, 0.733)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _as_ids(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of class ids, got shape {array.shape}.")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class ids, got dtype {array.dtype}.")
    return array.astype(np.int64)


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _as_ids(y_true, "y_true"), _as_ids(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} vs {len(y_pred)}.")
    if not y_true.size:
        raise ValueError("Cannot compute metrics on zero examples.")
    return y_true, y_pred


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """The fraction of predictions equal to the truth.

    Example:
        >>> accuracy([0, 1, 2], [0, 1, 1])
        0.6666666666666666
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None) -> np.ndarray:
    """``matrix[i, j]`` counts examples of true class ``i`` predicted as ``j``.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 0, 1]).tolist()
        [[1, 0], [1, 1]]
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    size = int(max(y_true.max(), y_pred.max()) + 1) if num_classes is None else num_classes
    if y_true.min() < 0 or y_pred.min() < 0 or max(y_true.max(), y_pred.max()) >= size:
        raise ValueError(f"Class ids must lie in [0, {size}); got {min(y_true.min(), y_pred.min())}.."
                         f"{max(y_true.max(), y_pred.max())}.")
    matrix = np.zeros((size, size), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def precision_recall_f1(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix; 0 where a ratio has a zero denominator.

    Example:
        >>> p, r, f = precision_recall_f1(np.array([[1, 0], [1, 1]]))
        >>> p.tolist(), r.tolist()
        ([0.5, 1.0], [1.0, 0.5])
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    hits = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(hits), where=total > 0)
    return precision, recall, f1


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None) -> float:
    """The unweighted mean of per-class F1 over the classes that occur in the truth or the predictions.

    Example:
        >>> macro_f1([0, 0, 1, 1], [0, 0, 1, 1])
        1.0
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    return float(precision_recall_f1(matrix)[2][present].mean())


def classification_report(y_true: Sequence[int], y_pred: Sequence[int], label_names: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix as one dict.

    Macro-F1 averages over the classes present in the truth or the predictions, so a label the evaluation
    set lacks does not drag it down.

    Example:
        >>> report = classification_report([0, 1], [0, 0], ["a", "b"])
        >>> report["per_class"]["a"]["precision"], report["confusion_matrix"]
        (0.5, [[1, 0], [1, 0]])
    """
    names = list(label_names)
    matrix = confusion_matrix(y_true, y_pred, len(names))
    precision, recall, f1 = precision_recall_f1(matrix)
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    support = matrix.sum(axis=1)
    return {
        "accuracy": float(np.trace(matrix) / matrix.sum()),
        "macro_f1": float(f1[present].mean()),
        "examples": int(matrix.sum()),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(names)
        },
        "labels": names,
        "confusion_matrix": matrix.tolist(),
    }


def multilabel_report(y_true: np.ndarray, y_pred: np.ndarray, label_names: Sequence[str]) -> dict:
    """Metrics for multi-hot (examples, labels) 0/1 arrays: exact-match accuracy, per-label
    precision/recall/F1, macro-F1 over labels, and one 2x2 confusion matrix (``[[tn, fp], [fn, tp]]``) per label.

    Example:
        >>> report = multilabel_report(np.array([[1, 0], [1, 1]]), np.array([[1, 0], [1, 0]]), ["a", "b"])
        >>> report["accuracy"], report["per_class"]["b"]["recall"]
        (0.5, 0.0)
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    names = list(label_names)
    if y_true.shape != y_pred.shape or y_true.ndim != 2 or y_true.shape[1] != len(names):
        raise ValueError(f"Expected two (examples, {len(names)}) arrays, got {y_true.shape} and {y_pred.shape}.")
    if not len(y_true):
        raise ValueError("Cannot compute metrics on zero examples.")
    per_class, matrices, f1s = {}, {}, []
    for column, name in enumerate(names):
        matrix = confusion_matrix(y_true[:, column], y_pred[:, column], 2)
        precision, recall, f1 = precision_recall_f1(matrix)
        per_class[name] = {
            "precision": float(precision[1]),
            "recall": float(recall[1]),
            "f1": float(f1[1]),
            "support": int(matrix[1].sum()),
        }
        matrices[name] = matrix.tolist()
        f1s.append(f1[1])
    return {
        "accuracy": float(np.mean(np.all(y_true == y_pred, axis=1))),
        "macro_f1": float(np.mean(f1s)),
        "examples": int(len(y_true)),
        "per_class": per_class,
        "labels": names,
        "confusion_matrix": matrices,
    }
