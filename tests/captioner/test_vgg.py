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
