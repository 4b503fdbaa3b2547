"""textmodels.metrics against scikit-learn on random labels, plus the edge cases and errors."""

import numpy as np
import pytest
from sklearn import metrics as sk

from textmodels.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    macro_f1,
    multilabel_report,
    precision_recall_f1,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn_on_random_labels(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    assert accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    expected = sk.confusion_matrix(y_true, y_pred, labels=range(4))
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 4), expected)
    precision, recall, f1 = precision_recall_f1(confusion_matrix(y_true, y_pred, 4))
    np.testing.assert_allclose(precision, sk.precision_score(y_true, y_pred, average=None, labels=range(4)))
    np.testing.assert_allclose(recall, sk.recall_score(y_true, y_pred, average=None, labels=range(4)))
    assert macro_f1(y_true, y_pred) == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))


def test_report_names_classes_and_ignores_absent_ones_in_macro_f1():
    report = classification_report([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b", "never"])
    assert report["accuracy"] == 0.75
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert report["per_class"]["never"]["support"] == 0
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]


def test_zero_denominators_give_zero_not_nan():
    precision, recall, f1 = precision_recall_f1(np.array([[0, 3], [0, 0]]))
    assert precision.tolist() == [0.0, 0.0] and recall.tolist() == [0.0, 0.0] and not np.isnan(f1).any()


def test_multilabel_report_matches_scikit_learn():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, (50, 3)), rng.integers(0, 2, (50, 3))
    report = multilabel_report(y_true, y_pred, ["x", "y", "z"])
    assert report["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert report["macro_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    assert report["per_class"]["y"]["recall"] == pytest.approx(sk.recall_score(y_true[:, 1], y_pred[:, 1]))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [([0, 1], [0], "differ in length"), ([], [], "zero examples"), ([0.5], [1], "integer"), ([[0]], [[0]], "1-D")],
)
def test_bad_input_raises_clear_errors(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        accuracy(y_true, y_pred)


def test_class_id_outside_the_label_set_is_named():
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        classification_report([0, 2], [0, 1], ["a", "b"])
