"""``captioner finetune``: a fine-tuned model from a trained one, refusals that name the culprit, and a kill -9 in
the middle of an epoch that ``--resume`` recovers from with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from captioner.cli import main
from captioner.model import CaptionModel
from textmodels.fault_points import KILL_VARIABLE

pytestmark = pytest.mark.all_backends

# 30 synthetic photos: 24 train (3 updates of 8 photos per epoch), 3 val, 3 test.
STEPS_PER_EPOCH = 3


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(data folder, captions file, model trained for one epoch by `captioner train`)``."""
    folder = tmp_path_factory.mktemp("shapes")
    assert main(["make-synthetic", str(folder), "--num-images", "30", "--image-size", "16"]) == 0
    model = tmp_path_factory.mktemp("model") / "shapes.keras"
    assert main(["train", str(folder / "captions.json"), "--images", str(folder), "--out", str(model),
                 "--image-size", "16", "--conv-filters", "4", "--feature-dim", "8", "--units", "8",
                 "--embedding-dim", "4", "--epochs", "1", "--min-count", "1", "--quiet"]) == 0
    return folder, folder / "captions.json", model


def finetune_args(trained, out, *more) -> list[str]:
    folder, captions, model = trained
    return ["finetune", str(model), str(captions), "--images", str(folder), "--reward", "cider", "--out", str(out),
            "--batch-size", "8", "--quiet", *more]


def test_finetune_writes_a_loadable_captioner_and_reports_every_epoch(trained, tmp_path, capsys):
    out = tmp_path / "tuned.keras"
    assert main(finetune_args(trained, out, "--epochs", "2", "--samples", "3", "--baseline", "mean")) == 0
    printed = capsys.readouterr().out
    assert f"saved {out}" in printed and printed.count(", ") >= 1  # two validation scores
    loaded = keras.saving.load_model(out, safe_mode=True)
    assert isinstance(loaded, CaptionModel) and not loaded.train_encoder
    assert json.loads((tmp_path / "tuned.run" / "state.json").read_text())["epoch"] == 2


def test_finetune_refuses_other_kinds_of_model_and_data_without_validation(trained, tmp_path, capsys):
    from textmodels.classification import TextRNN
    from textmodels.saving import save_model

    classifier = TextRNN(vocabulary_size=20, num_labels=2, embedding_dim=4, units=4)  # what a classifier file holds
    classifier(np.zeros((1, 3), "int32"))
    save_model(classifier, tmp_path / "classifier.keras")
    folder, captions, model = trained
    arguments = finetune_args(trained, tmp_path / "out.keras")
    arguments[1] = str(tmp_path / "classifier.keras")
    assert main(arguments) == 2
    assert "holds a TextRNN model, not a captioner" in capsys.readouterr().err

    data = json.loads(captions.read_text())
    for image in data["images"]:
        image["split"] = "train" if image["split"] == "val" else image["split"]
    (tmp_path / "no_val.json").write_text(json.dumps(data))
    arguments = finetune_args(trained, tmp_path / "out.keras")
    arguments[2] = str(tmp_path / "no_val.json")
    assert main(arguments) == 2
    assert "no 'val' split" in capsys.readouterr().err


def test_finetune_refuses_a_feature_cache_of_another_encoder(trained, tmp_path, capsys):
    from captioner.data import read_coco
    from captioner.encoder import FeatureCache

    folder, captions, model_path = trained
    model = keras.saving.load_model(model_path, safe_mode=True)
    ids = [record.image_id for record in read_coco(captions, folder)]
    other = {**model.encoder_config, "conv_filters": [16]}  # same size of features, another network
    FeatureCache(tmp_path / "cache", ids, model.feature_dim, other).write(ids, np.zeros((len(ids), 8)))
    assert main(finetune_args(trained, tmp_path / "out.keras", "--features", str(tmp_path / "cache"))) == 2
    assert "does not match: encoder_config_sha256" in capsys.readouterr().err


@pytest.mark.slow
def test_a_kill_in_the_middle_of_an_epoch_is_resumed_with_nothing_lost(trained, tmp_path):
    epochs = 2
    arguments = finetune_args(trained, tmp_path / "tuned.keras", "--epochs", str(epochs), "--patience", "0")
    # Epoch 1: its updates, then its checkpoint (last.keras, best.keras, state.json: 5 points each); the kill
    # comes after the second update of epoch 2.
    kill_at = STEPS_PER_EPOCH + 15 + 2
    env = dict(os.environ, **{KILL_VARIABLE: str(kill_at)})
    killed = subprocess.run([sys.executable, "-m", "captioner.cli", *arguments], env=env, capture_output=True,
                            text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-2000:]
    run = tmp_path / "tuned.run"
    assert json.loads((run / "state.json").read_text())["epoch"] == 1 and not (tmp_path / "tuned.keras").exists()

    assert main([*arguments, "--resume"]) == 0
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == epochs and all(len(values) == epochs for values in state["history"].values())
    steps = keras.saving.load_model(run / "last.keras", safe_mode=True).optimizer.iterations
    assert int(ops.convert_to_numpy(steps)) == epochs * STEPS_PER_EPOCH  # the interrupted epoch ran once, whole
    assert isinstance(keras.saving.load_model(tmp_path / "tuned.keras", safe_mode=True), CaptionModel)
