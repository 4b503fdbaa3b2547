"""LayerwiseAdam: a group with factor 0 does not move, a group with factor f moves f times as far as Adam would
(its first step is lr * sign(gradient)), the head always learns, and the factors follow the epochs."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.errors import ConfigurationError
from textmodels.training.layer_rate_schedule import LayerRateSchedule
from textmodels.training.layerwise_adam import LayerwiseAdam

pytestmark = pytest.mark.all_backends


def two_layer_model(optimizer):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="lower"),
                              keras.layers.Dense(1, name="upper")], name="net")
    model.compile(optimizer, "mse")
    return model


def test_factors_scale_each_groups_step():
    optimizer = LayerwiseAdam(["lower/"], layer_rate_decay=4.0, learning_rate=0.1)
    model = two_layer_model(optimizer)
    before = [ops.convert_to_numpy(w) for w in model.trainable_weights]
    x, y = np.random.default_rng(0).normal(size=(8, 3)), np.ones((8, 1))
    model.train_on_batch(x, y)
    steps = [np.abs(ops.convert_to_numpy(w) - b) for w, b in zip(model.trainable_weights, before)]
    # Adam's first step is lr * g / (|g| + eps): lr for every weight with a gradient, times the group factor.
    lower_kernel, upper_kernel = steps[0], steps[2]
    np.testing.assert_allclose(lower_kernel[lower_kernel > 0], 0.1 / 4, rtol=1e-3)
    np.testing.assert_allclose(upper_kernel, 0.1, rtol=1e-3)


def test_gradual_unfreezing_holds_the_lower_group_until_its_epoch():
    model = two_layer_model(LayerwiseAdam(["lower/"], gradual_unfreezing=True, learning_rate=0.05))
    x, y = np.random.default_rng(1).normal(size=(16, 3)), np.ones((16, 1))
    lower = ops.convert_to_numpy(model.get_layer("lower").kernel)
    upper = ops.convert_to_numpy(model.get_layer("upper").kernel)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[LayerRateSchedule()])
    np.testing.assert_array_equal(ops.convert_to_numpy(model.get_layer("lower").kernel), lower)
    assert not np.allclose(ops.convert_to_numpy(model.get_layer("upper").kernel), upper)
    model.fit(x, y, epochs=2, initial_epoch=1, verbose=0, callbacks=[LayerRateSchedule()])
    assert not np.allclose(ops.convert_to_numpy(model.get_layer("lower").kernel), lower)


def test_config_round_trip_and_bad_decay():
    optimizer = LayerwiseAdam(["embedding/", "recurrent/lstm_0/"], layer_rate_decay=2.6, gradual_unfreezing=True)
    copy = LayerwiseAdam.from_config(optimizer.get_config())
    assert (copy.rate_groups, copy.layer_rate_decay, copy.gradual_unfreezing) == (
        ("embedding/", "recurrent/lstm_0/"), 2.6, True)
    np.testing.assert_allclose(copy.factors_for_epoch(9), [1 / 2.6**2, 1 / 2.6], rtol=1e-6)
    with pytest.raises(ConfigurationError, match="layer_rate_decay must be >= 1"):
        LayerwiseAdam(["embedding/"], layer_rate_decay=0.5)
