"""Real-photo workflow on small data: `captioner demo --data flickr8k DIR` (features -> decoder -> decoding chosen
on val -> a loadable model), the gallery (HTML + PNG), and caption files that name missing photos."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from captioner.api import Captioner
from captioner.cli import main
from captioner.data import make_synthetic
from captioner.data.records import MissingPhotosWarning
from textmodels.data.paths import shared_data_dir

DATA = shared_data_dir()
FLICKR = DATA / "flickr8k" if DATA else None
needs_flickr = pytest.mark.skipif(FLICKR is None or not (FLICKR / "Flickr8k.token.txt").is_file(),
                                  reason="needs ../shared/data/flickr8k (token file, split lists, photos)")


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """A Flickr8k-style folder: captions.json (train/val/test) and its photos."""
    folder = tmp_path_factory.mktemp("photos")
    make_synthetic(folder, num_images=20, image_size=32, seed=2)
    return folder


@pytest.fixture(scope="module")
def photo_demo(photo_folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    code = main(["demo", "--data", "flickr8k", str(photo_folder), "--encoder", "mobilenet_v2", "--weights", "none",
                 "--epochs", "1", "--work-dir", str(work), "--json"])
    assert code == 0
    return work


@pytest.mark.slow
def test_photo_demo_trains_a_loadable_model_and_reuses_its_features(photo_demo, photo_folder, capsys):
    model_path = photo_demo / "captioner.keras"
    captioner = Captioner.load(model_path)
    assert captioner.model.encoder_config["kind"] == "mobilenet_v2" and captioner.model.feature_dim == 1280
    caption = captioner.caption(next(photo_folder.glob("*.png")))
    # One epoch on 20 photos may well decode <eos> first (an empty caption); the words it gives are the model's.
    assert isinstance(caption, str) and set(caption.split()) <= set(captioner.model.text_encoder.vocabulary.tokens)
    features = photo_demo / "features_mobilenet_v2"
    assert (features / "meta.json").is_file()
    stamp = (features / "features.npy").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["demo", "--data", "flickr8k", str(photo_folder), "--weights", "none", "--epochs", "1",
                 "--work-dir", str(photo_demo), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (features / "features.npy").stat().st_mtime_ns == stamp  # the cache was reused, not rewritten
    assert report["decoding"]["beam_size"] in (1, 3, 5) and 0 <= report["test_metrics"]["bleu1"] <= 1


def test_photo_demo_without_a_folder_or_caption_file_says_what_it_needs(tmp_path, capsys):
    assert main(["demo", "--data", "flickr8k"]) == 2
    assert "needs DATA_DIR" in capsys.readouterr().err
    assert main(["demo", "--data", "flickr8k", str(tmp_path), "--weights", "none"]) == 2
    assert "holds none of the caption files" in capsys.readouterr().err


@pytest.mark.slow
def test_gallery_writes_html_and_a_contact_sheet(photo_demo, photo_folder, tmp_path, capsys):
    out = tmp_path / "gallery"
    model = str(photo_demo / "captioner.keras")
    assert main(["gallery", model, str(photo_folder / "captions.json"), "--images", str(photo_folder),
                 "--out-dir", str(out), "--count", "2", "--blind", model, "--columns", "2"]) == 0
    page = (out / "index.html").read_text()
    assert page.count("<figure>") == 2 and "blind baseline:" in page and "human:" in page
    assert len(list((out / "photos").glob("*.jpg"))) == 2
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.size[0] == 2 * (224 + 2 * 18)
    assert "2 photos ->" in capsys.readouterr().out


@pytest.mark.slow
def test_gallery_refuses_an_empty_split(photo_demo, photo_folder, tmp_path, capsys):
    assert main(["gallery", str(photo_demo / "captioner.keras"), str(photo_folder / "captions.json"), "--images",
                 str(photo_folder), "--out-dir", str(tmp_path / "g"), "--split", "restval"]) == 2
    assert "No photos in split 'restval'" in capsys.readouterr().err


@pytest.mark.slow
@needs_flickr
def test_official_token_file_with_its_missing_photo_is_used_with_a_count_unless_strict(tmp_path, capsys):
    # Five of the shared photos, with the official token file's quirk: captions for a photo that does not exist.
    photos = tmp_path / "images"
    photos.mkdir()
    lines = FLICKR.joinpath("Flickr8k.token.txt").read_text().splitlines()
    names = list(dict.fromkeys(line.split("#")[0] for line in lines if ".jpg.1#" not in line))[:5]
    for name in names:
        shutil.copy(FLICKR / "images_224" / name, photos / name)
    kept = [line for line in lines if line.split("#")[0] in names or ".jpg.1#" in line]
    token_file = tmp_path / "Flickr8k.token.txt"
    token_file.write_text("\n".join(kept) + "\n")
    from captioner.data.caption_files import read_caption_data

    with pytest.warns(MissingPhotosWarning, match=r"1 image\(s\) with 5 caption\(s\) have no photo.*jpg\.1"):
        records = read_caption_data(token_file, photos)
    assert len(records) == 5
    cache = tmp_path / "cache"
    assert main(["extract-features", str(token_file), "--images", str(photos), "--features", str(cache),
                 "--encoder", "mobilenet_v2", "--weights", "none", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "left out" in captured.err and "5 image(s) encoded" in captured.out
    assert main(["extract-features", str(token_file), "--images", str(photos), "--features", str(cache),
                 "--encoder", "mobilenet_v2", "--weights", "none", "--strict"]) == 2
    error = capsys.readouterr().err
    assert "2258277193_586949ec62.jpg.1" in error and "does not exist" in error
