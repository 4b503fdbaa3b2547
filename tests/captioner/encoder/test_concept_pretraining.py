"""Concept pretraining: the words it picks, that the small encoder learns to name them, and its place in training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from captioner.commands.train import config_from_args, register
from captioner.config import CaptionerConfig
from captioner.data import make_synthetic, read_coco
from captioner.data.records import CaptionRecord
from captioner.encoder import build_small_vgg_encoder
from captioner.encoder.concept_pretraining import caption_concepts, concept_targets, pretrain_on_concepts
from captioner.training import train_captioner
from textmodels.errors import ConfigurationError

TINY = dict(image_size=16, conv_filters=(8,), feature_dim=16, embedding_dim=8, units=16, min_count=1,
            max_length=12, patience=None, batch_size=16)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concept_shapes")
    return read_coco(make_synthetic(folder, num_images=600, image_size=16, seed=5), folder)


def test_concepts_count_photos_not_mentions_and_skip_function_words_and_punctuation():
    records = [CaptionRecord("1", Path("1.png"), "train", ("A dog, a dog!", "the dog and the dog", "dog")),
               CaptionRecord("2", Path("2.png"), "train", ("a cat on grass",)),
               CaptionRecord("3", Path("3.png"), "train", ("a cat near grass.",))]
    # "dog" fills five captions of one photo; "cat" and "grass" are each in two photos' captions.
    assert caption_concepts(records) == ["cat", "grass", "dog"]
    assert caption_concepts(records, count=1) == ["cat"]
    targets = concept_targets(records, ["dog", "cat", "grass"])
    assert targets.tolist() == [[1, 0, 0], [0, 1, 1], [0, 1, 1]]
    assert targets.dtype == np.float32


@pytest.mark.all_backends
def test_the_small_encoder_learns_to_name_what_the_photos_show(shapes):
    train = [record for record in shapes if record.split == "train"]
    val = [record for record in shapes if record.split == "val"]
    encoder = build_small_vgg_encoder(16, (8, 16), 32)
    report = pretrain_on_concepts(encoder, train, val, epochs=30, verbose=0)
    # The colours, shapes and sizes are in the pictures (the paraphrase words "appears", "sits" are not; a flip
    # would swap "left" and "right", so they are left out): held-out photos are scored well above chance, at a
    # loss far below that of predicting each word's training frequency.
    assert {"red", "circle", "large"} <= set(report.concepts) and "left" not in report.concepts
    assert report.val_auc > 0.7, report
    assert report.loss < 0.65 * report.prior_loss, report


def test_training_from_pixels_starts_from_the_pretrained_encoder(shapes, monkeypatch):
    import captioner.training as training

    calls = []
    original = training.pretrain_on_concepts

    def recorded(encoder, train, val, **kwargs):
        before = [np.array(weight) for weight in encoder.get_weights()]
        report = original(encoder, train, val, **kwargs)
        calls.append((before, [np.array(weight) for weight in encoder.get_weights()], encoder, kwargs["epochs"]))
        return report

    monkeypatch.setattr(training, "pretrain_on_concepts", recorded)
    subset = [record for record in shapes if record.split != "test"][:64]
    config = CaptionerConfig(**TINY, epochs=1, concept_epochs=2, train_encoder=False)
    result = train_captioner(subset, config, verbose=0)
    model = result.model
    [(before, after, encoder, epochs)] = calls
    assert epochs == 2 and encoder is model.encoder
    assert result.concept_pretraining.epochs == 2 and "circle" in result.concept_pretraining.concepts
    assert not all(np.array_equal(a, b) for a, b in zip(before, after))
    # Frozen afterwards: the captioner keeps exactly the weights the pretraining left.
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(after, model.encoder.get_weights()))


@pytest.mark.parametrize("settings, culprit", [
    (dict(concept_epochs=-1), "concept_epochs"),
    (dict(concept_epochs=2, encoder="mobilenet_v2"), "mobilenet_v2 encoder comes pretrained"),
    (dict(concept_epochs=2, image_blind=True), "image-blind"),
])
def test_bad_concept_settings_are_refused_naming_the_culprit(shapes, settings, culprit):
    with pytest.raises(ConfigurationError, match=culprit):
        train_captioner(shapes, CaptionerConfig(**{**TINY, **settings}), verbose=0)


def test_cached_features_bypass_the_encoder_so_concept_pretraining_is_refused(shapes):
    features = {record.image_id: np.zeros(16, np.float32) for record in shapes}
    with pytest.raises(ConfigurationError, match="cached features bypass it"):
        train_captioner(shapes, CaptionerConfig(**TINY, concept_epochs=1), features=features, verbose=0)


def test_the_command_line_option_reaches_the_config():
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    base = ["train", "d.json", "--images", "i", "--out", "m.keras"]
    assert config_from_args(parser.parse_args(base)).concept_epochs == CaptionerConfig().concept_epochs == 0
    assert config_from_args(parser.parse_args([*base, "--concept-epochs", "5"])).concept_epochs == 5
    with pytest.raises(SystemExit):
        parser.parse_args([*base, "--concept-epochs", "-1"])


def test_train_command_pretrains_and_says_how_well(tmp_path, capsys):
    from captioner.cli import main

    folder = tmp_path / "shapes"
    assert main(["make-synthetic", "--out-dir", str(folder), "--num-images", "30", "--image-size", "16"]) == 0
    out = tmp_path / "model.keras"
    assert main(["train", str(folder / "captions.json"), "--images", str(folder), "--out", str(out),
                 "--image-size", "16", "--conv-filters", "4", "--feature-dim", "8", "--units", "8",
                 "--embedding-dim", "4", "--epochs", "1", "--min-count", "1", "--concept-epochs", "1",
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "concept pretraining: 1 epoch, best loss" in printed and "for the words' frequencies alone" in printed
    assert out.is_file()
