"""Training: masked teacher forcing, learning from the image, checkpoints, resume, clipping, logs."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from keras import ops

from captioner.api import Captioner
from captioner.config import CaptionerConfig
from captioner.data import make_synthetic, read_coco
from captioner.data.images import load_images
from captioner.evaluation import evaluate_captioner
from captioner.model import CaptionModel
from captioner.training import build_captioner, caption_examples, compile_captioner, train_captioner

pytestmark = pytest.mark.all_backends

TINY = dict(image_size=16, conv_filters=(4,), feature_dim=8, embedding_dim=8, units=16, min_count=1,
            max_length=12, patience=None)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    path = make_synthetic(folder, num_images=600, image_size=16, seed=3)
    return read_coco(path, folder), folder


def _scene_features(folder):
    """Stand-in for trained CNN features: each object's colour, shape and size one-hot plus its centre."""
    from captioner.data.synthetic import COLOURS, SHAPES, SIZES

    images = json.loads((folder / "captions.json").read_text())["images"]
    features = {}
    for image in images:
        vector = []
        for obj in image["objects"]:
            vector += [obj["colour"] == c for c in COLOURS] + [obj["shape"] == s for s in SHAPES]
            vector += [obj["size"] == s for s in SIZES] + [obj["center"][0] / 16 - 0.5, obj["center"][1] / 16 - 0.5]
        features[str(image["id"])] = np.asarray(vector, np.float32)
    return features


def test_padding_is_masked_out_of_the_loss(synthetic):
    records, _ = synthetic
    model = build_captioner(records[:4], CaptionerConfig(**TINY))
    compile_captioner(model, CaptionerConfig(**TINY))
    ids = caption_examples(records[:4], model)
    features = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    short = loss(ids[..., 1:], model({"features": features, "tokens": ids[..., :-1]}))
    padded_ids = np.pad(ids, ((0, 0), (0, 0), (0, 5)))
    padded = loss(padded_ids[..., 1:], model({"features": features, "tokens": padded_ids[..., :-1]}))
    assert float(short) == pytest.approx(float(padded), rel=1e-5)
    assert float(model.optimizer.global_clipnorm) == 5.0


@pytest.mark.slow
def test_captioner_learns_from_the_image_far_beyond_the_blind_baseline(synthetic):
    records, folder = synthetic
    features = _scene_features(folder)
    config = CaptionerConfig(**{**TINY, "feature_dim": 22, "units": 64, "embedding_dim": 16}, epochs=15,
                             batch_size=16, learning_rate=5e-3, cell="gru")
    scores = {}
    for blind in (False, True):
        model = train_captioner(records, CaptionerConfig(**{**config.__dict__, "image_blind": blind}),
                                features=features, verbose=0).model
        report = evaluate_captioner(model, records, split="test", beam_size=3, features=features, use_java=False)
        scores[blind] = report.metrics
    print({blind: {key: round(value, 3) for key, value in metrics.items() if key != "warnings" and value}
           for blind, metrics in scores.items()})
    assert scores[False]["bleu4"] > scores[True]["bleu4"] + 0.1
    assert scores[False]["cider"] > 1.5 * scores[True]["cider"]


def test_end_to_end_checkpoints_resume_and_logs(synthetic, tmp_path):
    records, _ = synthetic
    subset = [r for r in records if r.split == "train"][:24] + [r for r in records if r.split == "val"][:8]
    config = CaptionerConfig(**TINY, epochs=1, batch_size=8)
    run_dir, out = tmp_path / "run", tmp_path / "model.keras"
    first = train_captioner(subset, config, run_dir=run_dir, out=out, verbose=0)
    assert len(first.history["loss"]) == 1 and "val_loss" in first.history
    assert (run_dir / "last.keras").is_file() and (run_dir / "state.json").is_file()
    assert any((run_dir / "logs").rglob("*tfevents*"))
    encoder_before = first.model.encoder.get_weights()[0]

    resumed = train_captioner(subset, CaptionerConfig(**TINY, epochs=2, batch_size=8), run_dir=run_dir,
                              resume=True, out=out, verbose=0)
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epoch"] == 2 and resumed.resumed_after == 1
    assert len(resumed.history["loss"]) == 2
    # End to end: the encoder learned too.
    assert not np.allclose(encoder_before, resumed.model.encoder.get_weights()[0])
    # --out is the best epoch's checkpoint, copied as it is (nothing reloaded or rebuilt), and loads as a captioner.
    assert resumed.source == run_dir / f"{'best' if state.get('best_epoch') else 'last'}.keras"
    assert out.read_bytes() == resumed.source.read_bytes()
    assert isinstance(Captioner.load(out).model, CaptionModel)


def test_frozen_encoder_stays_fixed(synthetic):
    records, _ = synthetic
    subset = [r for r in records if r.split == "train"][:16]
    config = CaptionerConfig(**TINY, epochs=1, batch_size=8, train_encoder=False)
    keras.utils.set_random_seed(config.seed)  # train_captioner seeds the same way: identical initial weights
    before = [np.array(w) for w in build_captioner(subset, config).encoder.get_weights()]
    trained = train_captioner(subset, config, verbose=0).model
    assert not trained.encoder.trainable
    assert all(np.array_equal(a, b) for a, b in zip(before, trained.encoder.get_weights()))
    decoder_before = build_captioner(subset, config).decoder.get_weights()[0]
    assert decoder_before.shape == trained.decoder.get_weights()[0].shape
    # The frozen encoder's features of the training photos set the decoder's standardisation.
    images, errors = load_images([r.image_path for r in subset], size=trained.image_size)
    assert not errors
    np.testing.assert_allclose(ops.convert_to_numpy(trained.decoder.feature_mean),
                               trained.encode_images(images).mean(0), rtol=1e-4, atol=1e-5)


def test_cached_features_set_the_standardisation_and_a_blind_model_keeps_the_identity(synthetic):
    records, folder = synthetic
    subset = [r for r in records if r.split == "train"][:40]
    features = {r.image_id: 5.0 + 2.0 * vector for r, vector in zip(subset, _scene_features(folder).values())}
    stacked = np.stack([features[r.image_id] for r in subset])
    config = CaptionerConfig(**{**TINY, "feature_dim": 22}, epochs=1, batch_size=8)
    decoder = train_captioner(subset, config, features=features, verbose=0).model.decoder
    np.testing.assert_allclose(ops.convert_to_numpy(decoder.feature_mean), stacked.mean(0), rtol=1e-5)
    standardised = ops.convert_to_numpy(decoder.standardize(stacked))
    varying = stacked.std(0) > 0
    np.testing.assert_allclose(standardised[:, varying].std(0), 1, atol=1e-4)
    blind = train_captioner(subset, CaptionerConfig(**{**config.__dict__, "image_blind": True}), features=features,
                            verbose=0).model.decoder
    np.testing.assert_array_equal(ops.convert_to_numpy(blind.feature_scale), np.ones(22, np.float32))


def test_bad_training_inputs_raise_clear_errors(synthetic, tmp_path):
    records, folder = synthetic
    with pytest.raises(ValueError, match="needs run_dir"):
        train_captioner(records, CaptionerConfig(**TINY), resume=True)
    with pytest.raises(FileNotFoundError, match="Cannot resume"):
        train_captioner(records, CaptionerConfig(**TINY), run_dir=tmp_path / "empty", resume=True)
    with pytest.raises(ValueError, match="None of the 480 images has cached features"):
        train_captioner(records, CaptionerConfig(**TINY), features={})
    broken = next(r for r in records if r.split == "train")
    broken.image_path.write_bytes(b"not a png")
    try:
        with pytest.raises(ValueError, match="None of the 1 training photos could be read.*" + broken.image_path.name):
            train_captioner([broken], CaptionerConfig(**TINY, epochs=1))
    finally:
        make_synthetic(folder, num_images=600, image_size=16, seed=3)
