"""The captioner command line: make-synthetic, train, caption (text and JSON), evaluate --json, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import pytest

from captioner.api import Captioner
from captioner.cli import main
from captioner.model import CaptionModel, fit_caption_vocabulary

pytestmark = pytest.mark.all_backends


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    assert main(["make-synthetic", "--out-dir", str(folder), "--num-images", "30", "--image-size", "16"]) == 0
    return folder


@pytest.fixture(scope="module")
def model_path(dataset, tmp_path_factory):
    from captioner.data import read_coco

    captions = [c for r in read_coco(dataset / "captions.json", dataset) for c in r.captions]
    model = CaptionModel.create(fit_caption_vocabulary(captions, min_count=1, max_length=12),
                                {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8},
                                embedding_dim=8, units=12)
    return Captioner(model).save(tmp_path_factory.mktemp("model") / "captioner.keras")


def test_help_is_fast_and_does_not_load_tensorflow():
    code = ("import sys, contextlib, io\nfrom captioner.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n    main(['--version'])\n"
            "print('tensorflow' in sys.modules, out.getvalue().strip())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "captioner", "0.1.0"]


def test_train_writes_a_loadable_model_with_checkpoints(dataset, tmp_path, capsys):
    out = tmp_path / "model.keras"
    code = main(["train", str(dataset / "captions.json"), "--images", str(dataset), "--out", str(out),
                 "--image-size", "16", "--conv-filters", "4", "--feature-dim", "8", "--units", "8",
                 "--embedding-dim", "4", "--epochs", "1", "--min-count", "1", "--inject", "par_inject", "--quiet"])
    assert code == 0
    assert f"saved {out}" in capsys.readouterr().out
    assert (tmp_path / "model.run" / "last.keras").is_file()
    loaded = keras.saving.load_model(out, safe_mode=True)
    assert isinstance(loaded, CaptionModel) and loaded.decoder.inject == "par_inject"


def test_extract_features_resumes_and_trains_the_decoder_on_them(dataset, tmp_path, capsys):
    data = [str(dataset / "captions.json"), "--images", str(dataset)]
    encoder = ["--encoder", "small", "--weights", "none", "--image-size", "16", "--conv-filters", "4",
               "--feature-dim", "8"]
    cache = str(tmp_path / "cache")
    assert main(["extract-features", *data, "--features", cache, *encoder, "--quiet"]) == 0
    assert "30 image(s) encoded" in capsys.readouterr().out
    assert main(["extract-features", *data, "--features", cache, *encoder, "--quiet"]) == 0
    assert "0 image(s) encoded, 30 already cached" in capsys.readouterr().out
    out = tmp_path / "decoder.keras"
    assert main(["train", *data, "--out", str(out), "--features", cache, *encoder, "--freeze-encoder",
                 "--units", "8", "--embedding-dim", "4", "--epochs", "1", "--min-count", "1", "--quiet"]) == 0
    assert keras.saving.load_model(out, safe_mode=True).feature_dim == 8
    wrong = [*encoder[:-1], "16"]
    assert main(["train", *data, "--out", str(out), "--features", cache, *wrong, "--quiet"]) == 2
    assert "does not match" in capsys.readouterr().err


def test_caption_prints_one_line_per_image_and_reports_bad_files(dataset, model_path, tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("synthetic_00000.png", "synthetic_00001.png"):
        (folder / name).write_bytes((dataset / name).read_bytes())
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "readme.txt").write_text("ignored: not an image suffix")
    code = main(["caption", str(model_path), str(folder), "--beam-size", "2"])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.out.splitlines()  # an untrained model may say nothing: "name<TAB>" is still a line
    assert [line.split("\t")[0] for line in lines] == ["synthetic_00000.png", "synthetic_00001.png"]
    assert all(len(line.split("\t")) == 2 for line in lines)
    assert "broken.png\terror:" in captured.err


def test_caption_json(dataset, model_path, capsys):
    image = dataset / "synthetic_00002.png"
    assert main(["caption", str(model_path), str(image), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["file"] == "synthetic_00002.png" and isinstance(rows[0]["caption"], str)


def test_evaluate_json_has_the_coco_metrics(dataset, model_path, capsys):
    code = main(["evaluate", str(model_path), str(dataset / "captions.json"), "--images", str(dataset),
                 "--split", "test", "--beam-size", "2", "--json", "--no-java"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("bleu1", "bleu2", "bleu3", "bleu4", "cider", "rouge_l"):
        assert 0.0 <= result[key] <= 10.0
    assert "meteor" in result and result["num_images"] == 3


def test_errors_are_one_line_with_exit_code_2(dataset, tmp_path, capsys):
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.save(tmp_path / "classifier.keras")
    assert main(["caption", str(tmp_path / "classifier.keras"), str(dataset)]) == 2
    assert "not a captioner" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "none.keras"), str(dataset / "captions.json"),
                 "--images", str(dataset)]) == 2
    assert "none.keras: no such model file" in capsys.readouterr().err
    (tmp_path / "captions.yaml").write_text("images: []")
    assert main(["train", str(tmp_path / "captions.yaml"), "--images", str(dataset), "--out",
                 str(tmp_path / "m.keras")]) == 2
    assert "Cannot tell the format" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_trains_both_models_and_reports_them(tmp_path, capsys):
    assert main(["demo", "--work-dir", str(tmp_path), "--num-images", "40", "--image-size", "16", "--epochs", "1",
                 "--examples", "2", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["test_images"] == 4 and results["word_order"] == "reading"
    assert set(results["models"]) == {"captioner", "image-blind baseline"}
    for result in results["models"].values():
        assert set(result["metrics"]) == {"bleu1", "bleu2", "bleu3", "bleu4", "cider"}
        assert len(result["examples"]) == 2
        assert isinstance(keras.saving.load_model(result["path"], safe_mode=True), CaptionModel)
    captions = json.loads((tmp_path / "synthetic" / "captions.json").read_text())["annotations"]
    assert all(" below " not in a["caption"] and " right of " not in a["caption"] for a in captions)
