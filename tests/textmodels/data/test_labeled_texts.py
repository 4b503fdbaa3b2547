"""LabeledTexts: length checks, len and take."""

import pytest

from textmodels.data.labeled_texts import LabeledTexts


def test_len_and_take_keep_pairs_together():
    data = LabeledTexts(texts=["a", "b", "c"], labels=["x", "y", "z"])
    subset = data.take([2, 0])
    assert len(data) == 3
    assert (subset.texts, subset.labels) == (["c", "a"], ["z", "x"])


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="2 texts and 1 labels"):
        LabeledTexts(texts=["a", "b"], labels=["x"])


def test_is_frozen():
    data = LabeledTexts(texts=[], labels=[])
    with pytest.raises(AttributeError):
        data.texts = ["changed"]
