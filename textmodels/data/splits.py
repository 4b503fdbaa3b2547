"""Seeded, optionally stratified index splits: train/validation/test and k folds.

Every function returns sorted ``int64`` index arrays, so ``LabeledTexts.take(indices)`` or ``array[indices]``
selects a part.

Example:
    >>> from textmodels.data.splits import train_val_test_split
    >>> train, val, test = train_val_test_split(10, fractions=(0.6, 0.2, 0.2), seed=0)
    >>> len(train), len(val), len(test)
    (6, 2, 2)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence

import numpy as np

from textmodels.errors import ConfigurationError

_FRACTION_TOLERANCE = 1e-6


def train_val_test_split(
    n: int,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    stratify_labels: Sequence[Hashable] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint train, validation and test indices covering ``range(n)``, sized by ``fractions``.

    Sizes are rounded by largest remainder so they always sum to ``n``. With ``stratify_labels`` each label
    is split in these proportions on its own, so totals may differ from ``n * fraction`` by up to one per
    label.

    Example:
        >>> from textmodels.data.splits import train_val_test_split
        >>> labels = ["a"] * 5 + ["b"] * 5
        >>> train, val, test = train_val_test_split(10, (0.6, 0.2, 0.2), seed=1, stratify_labels=labels)
        >>> sorted(labels[i] for i in val)
        ['a', 'b']
    """
    _check_size(n)
    fractions = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for group in _groups(n, stratify_labels):
        shuffled = rng.permutation(group)
        bounds = np.cumsum(_apportion(len(group), fractions))[:-1]
        for part, chunk in zip(parts, np.split(shuffled, bounds)):
            part.append(chunk)
    train, val, test = (np.sort(np.concatenate(part)).astype(np.int64) for part in parts)
    return train, val, test


def kfold_indices(
    n: int, k: int, seed: int = 0, stratify_labels: Sequence[Hashable] | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train_idx, test_idx) pairs whose test parts partition ``range(n)`` into near-equal folds.

    Arguments are checked when called, not on first iteration. With ``stratify_labels`` each label is dealt
    round-robin across folds, so per-label fold sizes differ by at most one.

    Example:
        >>> from textmodels.data.splits import kfold_indices
        >>> [len(test) for _, test in kfold_indices(10, k=3, seed=0)]
        [4, 3, 3]
    """
    _check_size(n)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ConfigurationError(f"k must be an integer from 2 to n={n}, got {k!r}")
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(group) for group in _groups(n, stratify_labels)])
    fold_of = np.empty(n, dtype=np.int64)
    fold_of[order] = np.arange(n) % k
    return ((np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)) for fold in range(k))


def _check_size(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ConfigurationError(f"n must be a non-negative integer, got {n!r}")


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(fraction) for fraction in fractions)
    if len(values) != 3:
        raise ConfigurationError(f"fractions must be (train, validation, test), got {len(values)} values: {values}")
    if not all(math.isfinite(value) and value >= 0 for value in values):
        raise ConfigurationError(f"fractions must be finite and non-negative, got {values}")
    if abs(sum(values) - 1.0) > _FRACTION_TOLERANCE:
        raise ConfigurationError(f"fractions must sum to 1, got {values} (sum {sum(values)})")
    return values


def _groups(n: int, stratify_labels: Sequence[Hashable] | None) -> list[np.ndarray]:
    if stratify_labels is None:
        return [np.arange(n)]
    if len(stratify_labels) != n:
        raise ConfigurationError(f"stratify_labels has {len(stratify_labels)} labels for n={n} examples")
    if n == 0:
        return [np.arange(0)]
    _, label_ids = np.unique(np.asarray(stratify_labels), return_inverse=True)
    return [np.flatnonzero(label_ids == label_id) for label_id in range(label_ids.max() + 1)]


def _apportion(size: int, fractions: tuple[float, ...]) -> np.ndarray:
    exact = np.asarray(fractions) * size
    counts = np.floor(exact).astype(np.int64)
    # Hand the leftover items to the largest remainders; a stable sort favours train on ties.
    leftover = size - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:leftover]] += 1
    return counts
