"""Image encoders: VGG16 up to fc2 (ImageNet weights fail fast offline), the small VGG-style encoder."""

from __future__ import annotations

import time

import numpy as np
import pytest

from captioner.encoder import build_encoder, build_small_vgg_encoder, encoder_config, resolve_vgg16_weights
from captioner.encoder import vgg16 as vgg16_module
from textmodels.data import network
from textmodels.data.network import OfflineError


@pytest.fixture
def offline(monkeypatch):
    """No network and no cached weights, whatever this machine has."""
    monkeypatch.setattr(network, "can_reach", lambda host, port=443, timeout=3.0: False)
    monkeypatch.setattr(vgg16_module, "_cached_imagenet_weights", lambda: None)


def test_imagenet_weights_offline_fail_fast_and_say_how_to_pass_a_file(offline):
    started = time.perf_counter()
    with pytest.raises(OfflineError) as caught:
        vgg16_module.build_vgg16_encoder(weights="imagenet")
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert "storage.googleapis.com" in message and "--weights" in message
    assert vgg16_module.WEIGHTS_FILE in message


def test_real_probe_without_network_is_also_fast(monkeypatch):
    monkeypatch.setattr(vgg16_module, "_cached_imagenet_weights", lambda: None)
    if network.can_reach("storage.googleapis.com", timeout=3.0):
        pytest.skip("this machine is online; the offline path is covered by the monkeypatched test")
    started = time.perf_counter()
    with pytest.raises(OfflineError):
        resolve_vgg16_weights("imagenet")
    assert time.perf_counter() - started < 10


def test_cached_imagenet_weights_need_no_network(monkeypatch, tmp_path):
    cached = tmp_path / vgg16_module.WEIGHTS_FILE
    cached.write_bytes(b"")
    monkeypatch.setattr(vgg16_module, "_cached_imagenet_weights", lambda: cached)
    monkeypatch.setattr(network, "can_reach", lambda *args, **kwargs: pytest.fail("probed the network"))
    assert resolve_vgg16_weights("imagenet") == "imagenet"


def test_local_weights_file_and_none(tmp_path):
    assert resolve_vgg16_weights(None) is None and resolve_vgg16_weights("none") is None
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        resolve_vgg16_weights(tmp_path / "missing.h5")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="broken.h5"):
        vgg16_module.build_vgg16_encoder(weights=broken)


def _write_keras_h5_weights(model, path) -> None:
    """``model``'s weights in the layout of Keras' published ``vgg16_weights_tf_dim_ordering_tf_kernels.h5``.

    That file predates the ``.weights.h5`` format: one HDF5 group per layer, named in the root's
    ``layer_names`` attribute, holding the layer's arrays in the order of its ``weight_names`` attribute.
    """
    import h5py

    with h5py.File(path, "w") as file:
        file.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        for layer in model.layers:
            group = file.create_group(layer.name)
            names = [f"{layer.name}_{index}".encode() for index in range(len(layer.weights))]
            group.attrs["weight_names"] = names
            for name, weight in zip(names, layer.weights):
                group.create_dataset(name.decode(), data=np.asarray(weight.numpy()))


def test_local_vgg16_weights_file_in_the_published_layout_is_loaded(tmp_path):
    import keras

    keras.utils.set_random_seed(3)
    reference = keras.applications.VGG16(include_top=True, weights=None)
    weights_file = tmp_path / vgg16_module.WEIGHTS_FILE
    _write_keras_h5_weights(reference, weights_file)
    encoder = vgg16_module.build_vgg16_encoder(weights=weights_file)
    images = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    fc2 = keras.Model(reference.input, reference.get_layer("fc2").output)
    expected = np.asarray(fc2(keras.applications.vgg16.preprocess_input(images.copy())))
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(np.asarray(encoder(images)), expected, rtol=1e-4, atol=1e-4)


def test_vgg16_random_weights_give_fc2_features():
    encoder = vgg16_module.build_vgg16_encoder(weights=None)
    assert encoder.input_shape == (None, 224, 224, 3) and encoder.output_shape == (None, 4096)
    assert encoder.get_layer("vgg16").layers[-1].name == "fc2"
    features = np.asarray(encoder(np.full((1, 224, 224, 3), 128.0, "float32")))
    assert features.shape == (1, 4096) and (features >= 0).all()  # fc2 is ReLU


def test_small_vgg_shapes_and_validation():
    encoder = build_small_vgg_encoder(image_size=32, conv_filters=(4, 8, 8), feature_dim=4096)
    assert encoder.output_shape == (None, 4096)
    assert [layer.name for layer in encoder.layers if layer.name.endswith("pool")] == [
        "block1_pool", "block2_pool", "block3_pool"]
    with pytest.raises(ValueError, match="multiple of"):
        build_small_vgg_encoder(image_size=20, conv_filters=(4, 8, 8))
    with pytest.raises(ValueError, match="conv_filters"):
        build_small_vgg_encoder(conv_filters=())


def test_encoder_config_round_trips_through_build_encoder():
    config = encoder_config("small", image_size=16, conv_filters=(4,), feature_dim=8)
    assert build_encoder(config).output_shape == (None, 8)
    assert encoder_config("vgg16")["feature_dim"] == 4096
    with pytest.raises(ValueError, match="Unknown encoder 'resnet'"):
        encoder_config("resnet")
