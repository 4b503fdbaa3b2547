"""The image preprocessing every encoder (and so every served model) runs first, through the shared layer
contract (`tests/layer_testing.check_image_layer`), and against `keras.applications`' own preprocessing."""

import keras
import numpy as np
import pytest
from layer_testing import check_image_layer

from captioner.encoder.preprocessing import ImageNetPreprocessing

pytestmark = pytest.mark.all_backends


@pytest.mark.parametrize("mode", ["caffe", "tf"])
def test_preprocessing_keeps_the_image_layer_contract(mode, tmp_path):
    check_image_layer(lambda: ImageNetPreprocessing(mode), tmp_path)


@pytest.mark.parametrize("mode, reference", [
    ("caffe", keras.applications.vgg16.preprocess_input),
    ("tf", keras.applications.mobilenet_v2.preprocess_input),
])
def test_preprocessing_equals_the_backbones_own(mode, reference):
    pixels = np.random.default_rng(0).uniform(0, 255, size=(2, 5, 5, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(ImageNetPreprocessing(mode)(pixels))
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(reference(pixels.copy())), atol=1e-4)


def test_an_unknown_mode_is_refused_naming_the_valid_ones():
    with pytest.raises(ValueError, match="caffe, tf"):
        ImageNetPreprocessing("torch")
