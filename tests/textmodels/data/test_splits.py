"""train_val_test_split and kfold_indices: partitions, sizes, stratification, determinism and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textmodels.data.splits import kfold_indices, train_val_test_split

fractions_strategy = (
    st.lists(st.integers(0, 20), min_size=3, max_size=3)
    .filter(lambda weights: sum(weights) > 0)
    .map(lambda weights: tuple(weight / sum(weights) for weight in weights))
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), fractions=fractions_strategy, seed=st.integers(0, 2**32 - 1))
def test_split_partitions_range_with_sizes_within_one(n, fractions, seed):
    parts = train_val_test_split(n, fractions, seed=seed)
    joined = np.concatenate(parts)
    assert np.array_equal(np.sort(joined), np.arange(n))
    for part, fraction in zip(parts, fractions):
        assert part.dtype == np.int64
        assert abs(len(part) - n * fraction) < 1
        assert np.all(np.diff(part) > 0)


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.sampled_from("abc"), min_size=1, max_size=200), seed=st.integers(0, 1000))
def test_stratified_split_keeps_each_label_in_proportion(labels, seed):
    fractions = (0.6, 0.2, 0.2)
    parts = train_val_test_split(len(labels), fractions, seed=seed, stratify_labels=labels)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(labels)))
    for label in set(labels):
        total = labels.count(label)
        for part, fraction in zip(parts, fractions):
            assert abs(sum(labels[i] == label for i in part) - total * fraction) < 1


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_kfold_test_parts_partition_range_and_train_is_the_rest(data):
    n = data.draw(st.integers(2, 200))
    k = data.draw(st.integers(2, n))
    folds = list(kfold_indices(n, k, seed=data.draw(st.integers(0, 1000))))
    assert len(folds) == k
    tests = [test for _, test in folds]
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(n))
    assert max(map(len, tests)) - min(map(len, tests)) <= 1
    for train, test in folds:
        assert np.array_equal(np.union1d(train, test), np.arange(n))
        assert np.intersect1d(train, test).size == 0


def test_stratified_kfold_balances_every_label():
    labels = ["pos"] * 23 + ["neg"] * 7 + ["mid"] * 10
    for _, test in kfold_indices(len(labels), 5, seed=3, stratify_labels=labels):
        counts = {label: sum(labels[i] == label for i in test) for label in set(labels)}
        assert counts["pos"] in (4, 5) and counts["neg"] in (1, 2) and counts["mid"] == 2


def test_default_fractions():
    assert [len(part) for part in train_val_test_split(1000)] == [800, 100, 100]


def test_seed_makes_splits_deterministic_and_different_seeds_differ():
    first = train_val_test_split(500, seed=7)
    again = train_val_test_split(500, seed=7)
    other = train_val_test_split(500, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])
    folds = [test for _, test in kfold_indices(50, 5, seed=7)]
    folds_again = [test for _, test in kfold_indices(50, 5, seed=7)]
    assert all(np.array_equal(a, b) for a, b in zip(folds, folds_again))


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ((0.8, 0.2), "got 2 values"),
        ((0.5, 0.6, -0.1), "non-negative"),
        ((0.5, float("nan"), 0.5), "finite"),
        ((0.5, 0.3, 0.1), "sum to 1"),
    ],
)
def test_bad_fractions(fractions, message):
    with pytest.raises(ValueError, match=message):
        train_val_test_split(10, fractions)


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        train_val_test_split(n)


@pytest.mark.parametrize(("n", "k"), [(10, 1), (3, 4), (10, 2.0)])
def test_bad_k_is_reported_at_call_time(n, k):
    with pytest.raises(ValueError, match="k must be an integer from 2 to n"):
        kfold_indices(n, k)


def test_labels_must_match_n():
    with pytest.raises(ValueError, match="3 labels for n=4"):
        train_val_test_split(4, stratify_labels=["a", "b", "a"])
    with pytest.raises(ValueError, match="3 labels for n=4"):
        kfold_indices(4, 2, stratify_labels=["a", "b", "a"])
