"""Presets: loaded by name, file or folder; refused when unknown, truncated or altered by one byte; used by
``captioner caption``, ``serve`` and ``export`` when no model is named; and the shipped Flickr8k preset captions
real test photos with words their references use."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captioner.api import Captioner
from captioner.cli import main
from captioner.errors import PresetError
from captioner.model import CaptionModel, fit_caption_vocabulary
from captioner.presets import DEFAULT_PRESET, PRESETS_DIR_ENV, known_presets
from captioner.presets.build import build_preset
from captioner.presets.registry import _SHIPPED

ENCODER = {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry folder holding the default preset and one more, both small models made here (the shipped
    registry is never touched)."""
    folder = tmp_path_factory.mktemp("registry")
    source = tmp_path_factory.mktemp("models")
    text_encoder = fit_caption_vocabulary(["a red circle above a blue square", "a green triangle"], min_count=1)
    for name, seed in ((DEFAULT_PRESET, 0), ("second_preset", 1)):
        import keras

        keras.utils.set_random_seed(seed)
        model = CaptionModel.create(text_encoder, ENCODER, embedding_dim=8, units=12)
        build_preset(Captioner(model).save(source / f"{name}.keras"), name, out_dir=folder,
                     description=f"{name} for the tests", log=None)
    return folder


@pytest.fixture
def presets_env(registry, monkeypatch):
    monkeypatch.setenv(PRESETS_DIR_ENV, str(registry))
    return registry


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.all_backends
def test_a_preset_loads_by_name_by_file_and_by_folder(presets_env, photo):
    by_name = Captioner.from_preset(DEFAULT_PRESET)
    by_file = Captioner.from_preset(presets_env / f"{DEFAULT_PRESET}.keras")
    folder = presets_env.parent / "one_model"
    folder.mkdir(exist_ok=True)
    shutil.copy(presets_env / f"{DEFAULT_PRESET}.keras", folder / "model.keras")
    by_folder = Captioner.from_preset(folder)
    caption = by_name.caption(photo)
    assert isinstance(caption, str) and caption == by_file.caption(photo) == by_folder.caption(photo)


@pytest.mark.all_backends
def test_the_registry_entry_records_digest_size_and_description(presets_env):
    entry = json.loads((presets_env / f"{DEFAULT_PRESET}.json").read_text())
    path = presets_env / entry["file"]
    assert entry["size_bytes"] == path.stat().st_size
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
    assert entry["description"] == f"{DEFAULT_PRESET} for the tests"
    assert entry["decoding"] == {"beam_size": 3, "length_penalty": 0.7, "max_length": None, "min_length": 0,
                                 "block_ngram": 0}
    assert sorted(known_presets()) == [DEFAULT_PRESET, "second_preset"]


@pytest.mark.all_backends
def test_an_unknown_name_is_refused_listing_the_known_ones(presets_env):
    with pytest.raises(PresetError) as caught:
        Captioner.from_preset("flickr30k_resnet")
    message = str(caught.value)
    assert message.startswith("unknown preset 'flickr30k_resnet'; known presets: ")
    assert f"{DEFAULT_PRESET} ({DEFAULT_PRESET} for the tests)" in message and "second_preset" in message


@pytest.mark.all_backends
def test_a_missing_path_and_an_ambiguous_folder_are_refused(presets_env, tmp_path):
    with pytest.raises(PresetError, match="gone.keras: no such model file or folder"):
        Captioner.from_preset(tmp_path / "gone.keras")
    for name in ("a.keras", "b.keras"):
        shutil.copy(presets_env / f"{DEFAULT_PRESET}.keras", tmp_path / name)
    with pytest.raises(PresetError, match=r"exactly one .keras file \(found: a.keras, b.keras\)"):
        Captioner.from_preset(tmp_path)


@pytest.fixture
def copied_registry(registry, tmp_path, monkeypatch):
    """A copy of the registry, free to damage."""
    folder = tmp_path / "copy"
    shutil.copytree(registry, folder)
    monkeypatch.setenv(PRESETS_DIR_ENV, str(folder))
    return folder


@pytest.mark.all_backends
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_one_byte_change_is_refused_before_loading(copied_registry, where):
    path = copied_registry / f"{DEFAULT_PRESET}.keras"
    data = bytearray(path.read_bytes())
    offset = {"start": 0, "middle": len(data) // 2, "end": len(data) - 1}[where]
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    for preset in (DEFAULT_PRESET, path):  # by name, and by the file's path (its entry is beside it)
        with pytest.raises(PresetError) as caught:
            Captioner.from_preset(preset)
        message = str(caught.value)
        assert message.startswith(f"{path}: the file does not match the preset's recorded SHA-256 digest")
        assert "truncated, corrupted or altered" in message and "python -m captioner.presets.build" in message


@pytest.mark.all_backends
def test_a_truncated_or_missing_file_is_refused(copied_registry):
    path = copied_registry / f"{DEFAULT_PRESET}.keras"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 3])
    with pytest.raises(PresetError, match=rf"{size // 3:,} bytes where {size:,} were recorded"):
        Captioner.from_preset(DEFAULT_PRESET)
    path.unlink()
    with pytest.raises(PresetError, match=f"preset '{DEFAULT_PRESET}': its file .* is missing"):
        Captioner.from_preset(DEFAULT_PRESET)


def test_caption_without_a_model_uses_the_default_preset(presets_env, photo, capsys):
    expected = Captioner.from_preset(DEFAULT_PRESET).caption(photo)
    assert main(["caption", str(photo)]) == 0
    assert capsys.readouterr().out == f"photo.png\t{expected}\n"
    # A preset's name works in the model's place too.
    assert main(["caption", "second_preset", str(photo), "--beam-size", "2"]) == 0
    assert capsys.readouterr().out == f"photo.png\t{Captioner.from_preset('second_preset').caption(photo, 2)}\n"


def test_caption_refuses_an_altered_default_preset(copied_registry, photo, capsys):
    path = copied_registry / f"{DEFAULT_PRESET}.keras"
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    assert main(["caption", str(photo)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {path}: the file does not match") and "Traceback" not in error


@pytest.mark.slow
def test_export_without_a_model_uses_the_default_preset(presets_env, photo, tmp_path, capsys):
    import tensorflow as tf

    assert main(["export", "--out-dir", str(tmp_path / "exported")]) == 0
    assert "saved" in capsys.readouterr().out
    serve = tf.saved_model.load(str(tmp_path / "exported")).signatures["serve"]
    caption = serve(images=tf.constant([photo.read_bytes()]))["captions"][0, 0].numpy().decode()
    assert caption == Captioner.from_preset(DEFAULT_PRESET).caption(photo)


@pytest.mark.slow
def test_serve_without_a_model_serves_the_default_preset(presets_env, photo):
    import httpx

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", PRESETS_DIR_ENV: str(presets_env)}
    process = subprocess.Popen([sys.executable, "-m", "captioner.cli", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"serving {DEFAULT_PRESET} at http://127.0.0.1:"), line + process.stderr.read()
        url = line.split(" at ")[1].split()[0]
        answer = httpx.post(f"{url}/caption", files={"image": ("photo.png", photo.read_bytes(), "image/png")},
                            timeout=60).json()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert answer["captions"][0]["caption"] == Captioner.from_preset(DEFAULT_PRESET).caption(photo)


SHIPPED = _SHIPPED / f"{DEFAULT_PRESET}.keras"
# Words that say nothing about a photo: a caption shares content with its references only through the others.
STOP_WORDS = {"a", "an", "the", "is", "are", "of", "in", "on", "at", "with", "and", "to", "its", "his", "her",
              "their", "while", "for", "from", "by", "into", "up", "down", "out", "two", "one", "some"}


@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"the shipped preset {SHIPPED.name} is not built yet "
                    "(python -m captioner.presets.build MODEL.keras, see docs/presets.md)")
@pytest.mark.slow
def test_the_shipped_preset_captions_flickr8k_test_photos_with_words_their_references_use(shared_data,
                                                                                         monkeypatch):
    from captioner.data.caption_files import read_caption_data

    monkeypatch.delenv(PRESETS_DIR_ENV, raising=False)
    folder = Path(shared_data) / "flickr8k"
    if not (folder / "captions_flickr8k.json").is_file():
        pytest.skip(f"no Flickr8k captions in {folder}")
    records = [record for record in read_caption_data(folder / "captions_flickr8k.json", folder / "images_224")
               if record.split == "test"][:40]
    captioner = Captioner.from_preset(DEFAULT_PRESET)
    captions = captioner.caption([str(record.image_path) for record in records])
    shared = 0
    for record, caption in zip(records, captions):
        assert isinstance(caption, str) and caption, (record.image_path, caption)
        reference_words = {word for reference in record.captions for word in reference.lower().split()}
        shared += bool((set(caption.split()) - STOP_WORDS) & reference_words)
    # A captioner that ignored the photo would name the same few things everywhere; the card's CIDEr says more.
    assert shared >= 0.8 * len(records), list(zip(captions, (record.captions[0] for record in records)))
