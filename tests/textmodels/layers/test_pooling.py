"""Masked pooling: exact values, time order for top-k, and no NaN from fully padded rows."""

import numpy as np
import pytest
from keras import ops

from textmodels.layers import AttentionPooling, SequencePooling

pytestmark = pytest.mark.all_backends

X = np.array([[[1.0, -1.0], [5.0, -7.0], [3.0, 2.0], [9.0, 9.0]],
              [[4.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]], "float32")
MASK = np.array([[True, True, True, False], [False, False, False, False]])


@pytest.mark.parametrize(
    "mode, expected",
    [("last", [3.0, 2.0]), ("mean", [3.0, -2.0]), ("max", [5.0, 2.0])],
)
def test_pooling_values_ignore_padding(mode, expected):
    pooled = ops.convert_to_numpy(SequencePooling(mode)(X, mask=MASK))
    np.testing.assert_allclose(pooled[0], expected)
    np.testing.assert_array_equal(pooled[1], [0.0, 0.0])  # fully padded row: zeros, not NaN or -inf


def test_topk_keeps_time_order_and_fills_short_rows_with_zeros():
    pooled = ops.convert_to_numpy(SequencePooling("topk", k=2)(X, mask=MASK))
    # feature 0: the largest two are 5 (t=1) and 3 (t=2); feature 1: 2 (t=2) and -1 (t=0), kept in time order.
    assert pooled[0].tolist() == [5.0, 3.0, -1.0, 2.0]
    np.testing.assert_array_equal(pooled[1], 0.0)
    long_k = ops.convert_to_numpy(SequencePooling("topk", k=6)(X, mask=MASK))
    assert long_k.shape == (2, 12) and np.isfinite(long_k).all()


def test_last_with_two_directions_reads_backward_half_at_step_zero():
    pooled = ops.convert_to_numpy(SequencePooling("last", directions=2)(X, mask=MASK))
    assert pooled[0].tolist() == [3.0, -1.0]


def test_attention_weights_are_a_distribution_over_valid_steps():
    layer = AttentionPooling(4)
    pooled, weights = (ops.convert_to_numpy(t) for t in layer(X, mask=MASK))
    np.testing.assert_allclose(weights[0].sum(), 1.0, atol=1e-6)
    assert weights[0, 3] == 0.0
    np.testing.assert_allclose(pooled[0], (weights[0, :, None] * X[0]).sum(0), atol=1e-5)
    np.testing.assert_array_equal(weights[1], 0.0)
    np.testing.assert_array_equal(pooled[1], 0.0)


def test_invalid_pooling_options():
    with pytest.raises(ValueError, match="valid modes: last, mean, max, topk"):
        SequencePooling("median")
    with pytest.raises(ValueError, match="k >= 1"):
        SequencePooling("topk", k=0)
