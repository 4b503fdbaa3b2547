"""TokenDropout: about `rate` of the real tokens become <unk> in training, never padding or a reserved id; the
identity at inference; the config survives a round trip."""

import numpy as np
import pytest
from keras import ops

from textmodels.errors import ConfigurationError
from textmodels.layers import TokenDropout

pytestmark = pytest.mark.all_backends


def test_replaces_about_rate_of_the_real_tokens_with_unk_in_training_only():
    rng = np.random.default_rng(0)
    ids = rng.integers(4, 50, (64, 40)).astype("int32")
    ids[:, 30:] = 0
    ids[:, 0] = 2  # a <bos> marker stays
    layer = TokenDropout(0.3, seed=3)
    dropped = ops.convert_to_numpy(layer(ids, training=True))
    changed = dropped != ids
    assert set(np.unique(dropped[changed])) == {1}
    assert not changed[:, 30:].any() and not changed[:, 0].any()
    assert changed[:, 1:30].mean() == pytest.approx(0.3, abs=0.03)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(ids)), ids)


def test_config_round_trip_and_bad_rate():
    layer = TokenDropout(0.25, seed=7, name="words")
    copy = TokenDropout.from_config(layer.get_config())
    assert (copy.rate, copy.seed, copy.name) == (0.25, 7, "words")
    with pytest.raises(ConfigurationError, match="token dropout rate"):
        TokenDropout(1.0)
