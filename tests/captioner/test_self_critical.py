"""Self-critical fine-tuning: the policy-gradient loss and update, rewards of sampled token ids, the best epoch,
save/load, resume, bad input, and a real gain in held-out CIDEr-D over an under-trained model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from captioner.api import Captioner, CaptionerLoadError
from captioner.config import CaptionerConfig
from captioner.data import make_synthetic, read_coco
from captioner.data.records import CaptionRecord
from captioner.encoder import CacheMismatchError, FeatureCache
from captioner.errors import CaptionDataError
from captioner.evaluation import evaluate_captioner
from captioner.metrics import simple_tokenize
from captioner.model import CaptionModel, fit_caption_vocabulary
from captioner.policy_gradient_loss import PolicyGradientLoss
from captioner.self_critical import (
    SelfCriticalConfig,
    _greedy_cider,
    _prepare,
    _reward_words,
    _teacher_forcing,
    finetune_self_critical,
)
from textmodels.errors import ConfigurationError
from textmodels.text import Vocabulary

pytestmark = pytest.mark.all_backends

TINY = dict(image_size=16, conv_filters=(4,), feature_dim=22, embedding_dim=8, units=16, cell="gru", min_count=1,
            max_length=12, patience=None)


def scene_features(folder: Path) -> dict:
    """Stand-in for trained CNN features: each object's colour, shape and size one-hot plus its centre."""
    from captioner.data.synthetic import COLOURS, SHAPES, SIZES

    features = {}
    for image in json.loads((folder / "captions.json").read_text())["images"]:
        vector = []
        for obj in image["objects"]:
            vector += [obj["colour"] == c for c in COLOURS] + [obj["shape"] == s for s in SHAPES]
            vector += [obj["size"] == s for s in SIZES] + [obj["center"][0] / 16 - 0.5, obj["center"][1] / 16 - 0.5]
        features[str(image["id"])] = np.asarray(vector, np.float32)
    return features


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """40 synthetic photos (32 train, 4 val, 4 test) with scene features, and an untrained captioner for them."""
    from captioner.training import build_captioner

    folder = tmp_path_factory.mktemp("shapes")
    records = read_coco(make_synthetic(folder, num_images=40, image_size=16, seed=5), folder)
    keras.utils.set_random_seed(0)
    model = build_captioner([r for r in records if r.split == "train"], CaptionerConfig(**TINY))
    path = Captioner(model).save(tmp_path_factory.mktemp("model") / "untrained.keras")
    return records, scene_features(folder), path


def test_the_loss_is_the_advantage_weighted_log_likelihood_without_banned_tokens():
    logits = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32")
    targets = np.array([[4, 5, 3, 0], [5, 3, 0, 0], [4, 4, 4, 4]])  # padded, padded, cut off (no <eos>)
    advantages = np.array([1.5, -0.5, 2.0], "float32")
    banned = (0, 1, 2)
    kept = logits.astype(np.float64).copy()
    kept[..., list(banned)] = -np.inf
    log_q = kept - np.log(np.exp(kept).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_q, targets[..., None], -1)[..., 0]
    expected = -(advantages * np.where(targets > 0, picked, 0).sum(1)).mean()
    value = PolicyGradientLoss(banned)(targets, logits, sample_weight=advantages[:, None])
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_an_update_makes_a_sample_with_positive_advantage_likelier_and_one_with_negative_rarer(shapes):
    _, features, path = shapes
    model = Captioner.load(path).model
    _prepare(model, SelfCriticalConfig(learning_rate=1e-2))
    image = np.repeat(next(iter(features.values()))[None], 2, axis=0)
    good, bad = [4, 5, 6], [7, 8]
    inputs, targets = _teacher_forcing([good, bad], model.max_caption_length + 1)
    before = model.sequence_log_probs(image, [good, bad])
    for _ in range(5):
        model.train_on_batch({"features": image, "tokens": inputs}, targets,
                             sample_weight=np.array([[1.0], [-1.0]], "float32") * np.ones_like(targets, "float32"))
    after = model.sequence_log_probs(image, [good, bad])
    assert after[0] > before[0] + 0.5 and after[1] < before[1] - 0.5


def test_teacher_forcing_ends_finished_samples_only():
    inputs, targets = _teacher_forcing([[4], [6, 7, 8]], max_steps=3)  # the second one never ended
    assert inputs.tolist() == [[2, 4, 3], [2, 6, 7]]  # (the <eos> input predicts padding: ignored)
    assert targets.tolist() == [[4, 3, 0], [6, 7, 8]]


def test_rewarded_words_of_token_ids_are_the_words_of_the_decoded_text():
    captions = ["A dog's ball, isn't it?", "Two kids play -- in the snow.", "a T-shirt & jeans; 3.5 dollars"]
    model = CaptionModel.create(fit_caption_vocabulary(captions, min_count=1),
                                {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
    words_of_id = _reward_words(model)
    rng = np.random.default_rng(0)
    size = len(model.text_encoder.vocabulary)
    for _ in range(200):
        # Words only: the sampler never emits <pad>, <unk> or <bos>, and <eos> ends a sample.
        tokens = rng.integers(Vocabulary.eos_id + 1, size, rng.integers(0, 12)).tolist()
        joined = [word for token in tokens for word in words_of_id[token]]
        assert joined == simple_tokenize(model.text_encoder.decode(tokens)), tokens


def test_fine_tuning_keeps_the_best_epoch_resumes_and_round_trips(shapes, tmp_path):
    records, features, path = shapes
    config = SelfCriticalConfig(epochs=1, batch_size=8, learning_rate=1e-3)
    run = tmp_path / "run"
    first = finetune_self_critical(Captioner.load(path).model, records, config, features=features,
                                   run_dir=run, progress=False)
    assert len(first.history["val_cider"]) == 1
    out = tmp_path / "tuned.keras"
    resumed = finetune_self_critical(Captioner.load(path).model, records, dataclasses.replace(config, epochs=3),
                                     features=features, run_dir=run, resume=True, out=out, progress=False)
    history = resumed.history
    assert len(history["val_cider"]) == 3 and history["val_cider"][0] == first.history["val_cider"][0]
    state = json.loads((run / "state.json").read_text())
    steps = keras.saving.load_model(run / "last.keras", safe_mode=True).optimizer.iterations
    assert state["epoch"] == 3 and int(ops.convert_to_numpy(steps)) == 3 * 4  # 32 photos / 8: none trained twice
    # The best epoch is what comes back and what --out holds.
    model = resumed.model
    val = [r for r in records if r.split == "val"]
    from captioner.cider_d import CiderD

    scorer = CiderD({r.image_id: list(r.captions) for r in val})
    vectors = np.stack([features[r.image_id] for r in val])
    assert _greedy_cider(model, val, vectors, scorer) == pytest.approx(max(history["val_cider"]), abs=1e-9)
    loaded = Captioner.load(out).model
    assert not loaded.train_encoder and getattr(loaded, "optimizer", None) is None
    assert loaded.generate(vectors, beam_size=2)[0][0].tokens == model.generate(vectors, beam_size=2)[0][0].tokens
    tokens = np.array([[2, 4, 5, 6]])
    np.testing.assert_allclose(ops.convert_to_numpy(loaded({"features": vectors[:1], "tokens": tokens})),
                               ops.convert_to_numpy(model({"features": vectors[:1], "tokens": tokens})), atol=1e-6)


def test_the_mean_baseline_and_non_ascii_references_of_another_vocabulary_warn_and_run(shapes):
    records, features, path = shapes
    german = ["ein großer roter Kreis über einem Quadrat", "zwei Formen: Kreis und Quadrat", "...", "ein Kreis",
              "Über dem Quadrat liegt ein Kreis"]
    renamed = [CaptionRecord(r.image_id, r.image_path, r.split, tuple(german)) for r in records]
    with pytest.warns(UserWarning, match=r"Only \d+% of the words of the training captions are in the model's"):
        result = finetune_self_critical(Captioner.load(path).model, renamed,
                                        SelfCriticalConfig(epochs=1, batch_size=16, baseline="mean", samples=3),
                                        features=features, progress=False)
    assert all(np.isfinite(values).all() for values in result.history.values())


def test_data_without_a_validation_split_is_refused_naming_it(shapes):
    records, features, path = shapes
    with pytest.raises(CaptionDataError, match="no 'val' split"):
        finetune_self_critical(Captioner.load(path).model, [r for r in records if r.split != "val"],
                               features=features)


def test_another_encoders_feature_cache_and_other_models_are_refused(shapes, tmp_path):
    records, features, path = shapes
    model = Captioner.load(path).model
    cache = FeatureCache(tmp_path / "cache", [r.image_id for r in records], model.feature_dim,
                         {**model.encoder_config, "kind": "vgg16"})
    cache.write([r.image_id for r in records], np.stack([features[r.image_id] for r in records]))
    with pytest.raises(CacheMismatchError, match="another encoder"):
        finetune_self_critical(model, records, features=cache)
    with pytest.raises(CaptionerLoadError, match="needs a CaptionModel, got Sequential"):
        finetune_self_critical(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), records)
    with pytest.raises(ConfigurationError, match="baseline 'mean' needs samples >= 2"):
        finetune_self_critical(model, records, SelfCriticalConfig(baseline="mean", samples=1))
    with pytest.raises(ConfigurationError, match="resume=True needs run_dir or out"):
        finetune_self_critical(model, records, features=features, resume=True)


@pytest.mark.slow
def test_self_critical_training_raises_held_out_cider_over_an_under_trained_model(tmp_path):
    from captioner.training import train_captioner

    records = read_coco(make_synthetic(tmp_path, num_images=1000, image_size=16, seed=3), tmp_path)
    features = scene_features(tmp_path)
    config = CaptionerConfig(**{**TINY, "units": 64, "embedding_dim": 16}, epochs=1, batch_size=16,
                             learning_rate=5e-3)
    model = train_captioner(records, config, features=features, verbose=0).model  # one epoch: under-trained

    def test_cider(model):
        return evaluate_captioner(model, records, split="test", beam_size=1, features=features,
                                  use_java=False).metrics["cider"]

    before = test_cider(model)
    result = finetune_self_critical(model, records, SelfCriticalConfig(epochs=4, batch_size=16, learning_rate=3e-4),
                                    features=features, progress=False)
    after = test_cider(result.model)
    print(f"test CIDEr-D {before:.3f} -> {after:.3f}; val {result.history['val_cider']}")
    assert after > before + 0.1
    assert result.history["reward"][-1] > result.history["reward"][0]
