"""Image encoders: the ImageNet backbones by name (weights: imagenet offline fails fast | a local file | none),
the MobileNetV2 weights of ../shared/data on real photos, and the small VGG-style encoder."""

from __future__ import annotations

import json
import time

import keras
import numpy as np
import pytest

from captioner.config import ENCODERS
from captioner.data.images import load_image
from captioner.encoder import (
    BACKBONES,
    EncoderWeightsError,
    build_encoder,
    build_pretrained_encoder,
    build_small_vgg_encoder,
    encoder_config,
    resolve_weights,
)
from captioner.encoder import pretrained as pretrained_module
from textmodels.data import network
from textmodels.data.network import OfflineError
from textmodels.data.paths import shared_data_dir

keras_numpy = keras.ops.convert_to_numpy
DATA = shared_data_dir()
MOBILENET_NO_TOP = DATA / "weights" / "mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5" if DATA else None
MOBILENET_FULL = DATA / "weights" / "mobilenet_v2_1.00_224_imagenet_from_tflite.weights.h5" if DATA else None
needs_weights = pytest.mark.skipif(
    MOBILENET_NO_TOP is None or not MOBILENET_NO_TOP.is_file(),
    reason="needs ../shared/data/weights (the ImageNet MobileNetV2 weight files)",
)


@pytest.fixture
def offline(monkeypatch):
    """No network and no cached weights, whatever this machine has."""
    monkeypatch.setattr(network, "can_reach", lambda host, port=443, timeout=3.0: False)
    monkeypatch.setattr(pretrained_module, "_cached_imagenet_weights", lambda name: None)


def test_encoder_names_are_the_backbones_plus_small():
    assert ENCODERS == ("small", *BACKBONES)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_imagenet_weights_offline_fail_fast_and_say_how_to_pass_a_file(offline, name):
    started = time.perf_counter()
    with pytest.raises(OfflineError) as caught:
        build_pretrained_encoder(name, weights="imagenet")
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert "storage.googleapis.com" in message and "--weights FILE" in message
    assert BACKBONES[name].imagenet_file in message


@needs_weights
def test_offline_mobilenet_message_names_the_local_copy(offline):
    with pytest.raises(OfflineError, match="A local copy is at .*no_top.weights.h5"):
        resolve_weights("mobilenet_v2", "imagenet")


def test_real_probe_without_network_is_also_fast(monkeypatch):
    monkeypatch.setattr(pretrained_module, "_cached_imagenet_weights", lambda name: None)
    if network.can_reach("storage.googleapis.com", timeout=3.0):
        pytest.skip("this machine is online; the offline path is covered by the monkeypatched test")
    started = time.perf_counter()
    with pytest.raises(OfflineError):
        resolve_weights("resnet50", "imagenet")
    assert time.perf_counter() - started < 10


def test_cached_imagenet_weights_need_no_network(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / BACKBONES["vgg19"].imagenet_file).write_bytes(b"")
    monkeypatch.setattr(network, "can_reach", lambda *args, **kwargs: pytest.fail("probed the network"))
    assert resolve_weights("vgg19", "imagenet") == "imagenet"


def test_local_weights_file_and_none(tmp_path):
    assert resolve_weights("vgg16", None) is None and resolve_weights("vgg16", "none") is None
    with pytest.raises(EncoderWeightsError, match="missing.h5.*resnet50"):
        resolve_weights("resnet50", tmp_path / "missing.h5")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(EncoderWeightsError, match="broken.h5 does not hold weights for the mobilenet_v2 encoder"):
        build_pretrained_encoder("mobilenet_v2", weights=broken)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_builds_with_random_weights_and_its_declared_size(name):
    config = encoder_config(name, weights="none")
    encoder = build_encoder(config)
    assert config["weights"] is None and config["image_size"] == 224
    assert encoder.input_shape == (None, 224, 224, 3)
    assert encoder.output_shape == (None, BACKBONES[name].feature_dim) == (None, config["feature_dim"])
    features = keras_numpy(encoder(np.full((1, 224, 224, 3), 128.0, "float32")))
    assert features.shape == (1, BACKBONES[name].feature_dim) and np.isfinite(features).all()


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet50", "vgg16", "vgg19"])
def test_every_backbone_saves_and_loads_inside_a_captioner(tmp_path, name):
    from captioner.model import CaptionModel, fit_caption_vocabulary

    keras.utils.set_random_seed(0)
    model = CaptionModel.create(fit_caption_vocabulary(["a dog runs", "a cat sits"], min_count=1),
                                encoder_config(name, weights=None), embedding_dim=8, units=8)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.encode_images(images), model.encode_images(images))
    assert loaded.encoder_config == model.encoder_config and loaded.feature_dim == BACKBONES[name].feature_dim


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
                group.create_dataset(name.decode(), data=keras_numpy(weight))


def test_local_vgg16_weights_file_in_the_published_layout_is_loaded(tmp_path):
    import keras

    keras.utils.set_random_seed(3)
    reference = keras.applications.VGG16(include_top=True, weights=None)
    weights_file = tmp_path / BACKBONES["vgg16"].imagenet_file
    _write_keras_h5_weights(reference, weights_file)
    encoder = build_pretrained_encoder("vgg16", weights=weights_file)
    images = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    fc2 = keras.Model(reference.input, reference.get_layer("fc2").output)
    expected = keras_numpy(fc2(keras.applications.vgg16.preprocess_input(images.copy())))
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(keras_numpy(encoder(images)), expected, rtol=1e-4, atol=1e-4)


@needs_weights
def test_mobilenet_weights_file_with_or_without_top_gives_the_same_features():
    images = np.random.default_rng(1).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    no_top = keras_numpy(build_pretrained_encoder("mobilenet_v2", weights=MOBILENET_NO_TOP)(images))
    full = keras_numpy(build_pretrained_encoder("mobilenet_v2", weights=MOBILENET_FULL)(images))
    np.testing.assert_allclose(no_top, full, rtol=1e-5, atol=1e-5)
    assert no_top.std() > 0.1  # trained weights, not an untouched random model


@needs_weights
@pytest.mark.parametrize("name", ["resnet50", "vgg16"])
def test_weights_file_of_another_architecture_names_file_and_encoder(name):
    with pytest.raises(EncoderWeightsError) as caught:
        build_pretrained_encoder(name, weights=MOBILENET_NO_TOP)
    message = str(caught.value)
    assert MOBILENET_NO_TOP.name in message and f"the {name} encoder" in message


def _test_photos(matching, count: int) -> list:
    captions_file = DATA / "flickr8k" / "captions_flickr8k.json"
    data = json.loads(captions_file.read_text())
    captions: dict = {}
    for annotation in data["annotations"]:
        captions.setdefault(annotation["image_id"], []).append(annotation["caption"].lower().split())
    names = [image["file_name"] for image in data["images"]
             if image["split"] == "test" and matching(captions[image["id"]])]
    return [DATA / "flickr8k" / "images_224" / name for name in names[:count]]


ANIMALS = {"dog", "dogs", "puppy", "cat", "horse", "bird", "animal", "cow", "sheep", "goat", "bull", "duck"}


@needs_weights
@pytest.mark.skipif(DATA is None or not (DATA / "flickr8k" / "images_224").is_dir(),
                    reason="needs ../shared/data/flickr8k (photos and captions)")
def test_mobilenet_features_put_dog_photos_nearer_each_other_than_to_photos_without_animals():
    dogs = _test_photos(lambda caps: all("dog" in words for words in caps), 6)
    others = _test_photos(lambda caps: not any(ANIMALS & set(words) for words in caps), 6)
    encoder = build_encoder(encoder_config("mobilenet_v2", weights=str(MOBILENET_NO_TOP)))
    pixels = np.stack([load_image(path, size=(224, 224)) for path in dogs + others])
    features = keras_numpy(encoder(pixels))
    # Pooled ReLU features share a large positive component; compare the photos by what sets them apart.
    features = features - features.mean(axis=0)
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    similarity = unit @ unit.T
    dog_dog = similarity[:6, :6][~np.eye(6, dtype=bool)].mean()
    dog_other = similarity[:6, 6:].mean()
    assert dog_dog > dog_other + 0.1, (dog_dog, dog_other)
    # Each dog photo's nearest neighbour among the other eleven photos is a dog photo, for most of them.
    np.fill_diagonal(similarity, -np.inf)
    assert (similarity[:6].argmax(axis=1) < 6).sum() >= 5


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
    with pytest.raises(ValueError, match="Unknown encoder 'resnet'.*small, vgg16, vgg19, mobilenet_v2, resnet50"):
        encoder_config("resnet")
