"""The preset builder: a trained model copied into a registry with its digest and test metrics, atomically; a
rebuild that does not reproduce the registered metrics is not installed."""

from __future__ import annotations

import json

import pytest

from captioner.api import Captioner
from captioner.data import make_synthetic
from captioner.errors import PresetError
from captioner.model import CaptionModel, fit_caption_vocabulary
from captioner.presets import build as builder
from captioner.presets import file_digest, known_presets, resolve_preset

pytestmark = pytest.mark.all_backends

ENCODER = {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    make_synthetic(folder, num_images=40, image_size=16, seed=0)
    return folder


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    model = CaptionModel.create(fit_caption_vocabulary(["a red circle above a blue square"], min_count=1), ENCODER,
                                embedding_dim=8, units=12)
    return Captioner(model).save(tmp_path_factory.mktemp("model") / "trained.keras")


def test_the_builder_installs_the_file_its_digest_and_its_test_metrics(model_path, data_dir, tmp_path):
    entry = builder.build_preset(model_path, "shapes", out_dir=tmp_path, data_dir=data_dir, use_java=False,
                                 log=None)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["shapes.json", "shapes.keras"]
    assert json.loads((tmp_path / "shapes.json").read_text()) == entry
    assert entry["sha256"] == file_digest(tmp_path / "shapes.keras")
    assert entry["metrics"]["test_photos"] == 4 and 0 <= entry["metrics"]["bleu1"] <= 1
    assert entry["model"]["vocabulary"] == 10 and entry["model"]["encoder"] == "small"
    assert resolve_preset("shapes", tmp_path) == tmp_path / "shapes.keras"
    assert known_presets(tmp_path)["shapes"].metrics == entry["metrics"]
    # The installed file captions as the source model does.
    photo = next(data_dir.glob("*.png"))
    assert Captioner.load(tmp_path / "shapes.keras").caption(photo) == Captioner.load(model_path).caption(photo)


def test_a_rebuild_that_does_not_reproduce_the_metrics_keeps_the_registered_file(model_path, data_dir, tmp_path):
    builder.build_preset(model_path, "shapes", out_dir=tmp_path, data_dir=data_dir, use_java=False, log=None)
    entry_path = tmp_path / "shapes.json"
    entry = json.loads(entry_path.read_text())
    entry["metrics"]["cider"] += 0.5
    entry_path.write_text(json.dumps(entry))
    before = entry_path.read_text()
    with pytest.raises(PresetError, match=r"does not reproduce the registered metrics \(cider .* \(tolerance 0.03\)\)"):
        builder.build_preset(model_path, "shapes", out_dir=tmp_path, data_dir=data_dir, use_java=False, log=None,
                             require_reproduction=True)
    assert entry_path.read_text() == before
    # Without the requirement (a new model for the name), it is installed, and the change reported.
    messages = []
    builder.build_preset(model_path, "shapes", out_dir=tmp_path, data_dir=data_dir, use_java=False,
                         log=messages.append)
    assert any(message.startswith("metrics changed: cider") for message in messages)


def test_a_file_over_the_size_limit_is_refused(model_path, tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "MAX_PRESET_BYTES", 1000)
    with pytest.raises(PresetError, match="over the 0.001 MB a committed preset may take"):
        builder.build_preset(model_path, "big", out_dir=tmp_path, log=None)
    assert list(tmp_path.iterdir()) == []


def test_the_builder_command_line(model_path, tmp_path, capsys):
    assert builder.main([str(model_path), "--name", "cli", "--out-dir", str(tmp_path), "--no-score"]) == 0
    assert "preset 'cli'" in capsys.readouterr().out and (tmp_path / "cli.json").is_file()
    assert builder.main(["--out-dir", str(tmp_path)]) == 2
    assert "give either MODEL.keras or --rebuild" in capsys.readouterr().err
    assert builder.main([str(tmp_path / "missing.keras"), "--out-dir", str(tmp_path), "--no-score"]) == 2
    assert "missing.keras: no such model file" in capsys.readouterr().err
