"""The SavedModel export: in-graph beam search, decoding and detokenizing equal the Python path; TF alone loads it."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import sysconfig
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from captioner.api import Captioner
from captioner.cli import main
from captioner.data.images import load_image
from captioner.export.graph_beam_search import graph_beam_search
from captioner.export.graph_images import decode_and_resize, decode_rgb
from captioner.export.graph_text import treebank_detokenize
from captioner.export.saved_model import SIGNATURE_NAME, export_saved_model, serving_function
from captioner.model import CaptionModel, fit_caption_vocabulary

ENCODER = {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 12}
CAPTIONS = ["a red circle above a blue square", "a green triangle left of a red square", "there is a blue circle"]


def _hypotheses(result, item, count):
    lengths = result.lengths.numpy()
    return [(result.tokens[item, rank, : lengths[item, rank]].numpy().tolist(), float(result.log_probs[item, rank]),
             float(result.scores[item, rank])) for rank in range(count)]


@pytest.mark.slow
@pytest.mark.parametrize("inject, cell, layers, searches", [
    ("first_step", "lstm", 1, ((1, 1), (3, 3), (4, 2))), ("init_state", "gru", 2, ((3, 3), (4, 2))),
    ("pre_inject", "simple", 1, ((4, 2),)), ("par_inject", "lstm", 1, ((4, 2),)), ("merge", "gru", 1, ((3, 1),))])
def test_graph_beam_search_equals_generate_to_the_last_bit(inject, cell, layers, searches):
    """(beam_size, num_return) pairs: greedy; K finished ends a row; fewer asked for, so rows may stop early."""
    model = CaptionModel.create(fit_caption_vocabulary(CAPTIONS, min_count=1, max_length=7), ENCODER,
                                embedding_dim=6, units=10, cell=cell, layers=layers, inject=inject)
    features = np.random.default_rng(0).normal(0, 3, (5, 12)).astype("float32")
    vocabulary = model.text_encoder.vocabulary
    for beam_size, num_return in searches:
        # In a tf.function, as in the SavedModel: the compiled graph runs the same kernels as the compiled step
        # generate() calls (eager execution may pick other ones, which round differently).
        search = tf.function(lambda features: graph_beam_search(
            model.decoder, features, bos_id=vocabulary.bos_id, eos_id=vocabulary.eos_id,
            banned_ids=(vocabulary.pad_id, vocabulary.unk_id, vocabulary.bos_id), max_length=8,
            beam_size=beam_size, num_return=num_return, eos_at_max_length=True))  # noqa: B023 - traced and run here
        result = search(features)
        expected = model.generate(features, beam_size=beam_size, num_return=num_return, max_length=7)  # words
        for item, hyps in enumerate(expected):
            assert _hypotheses(result, item, num_return) == [(h.tokens, h.log_prob, h.score) for h in hyps], (
                beam_size, num_return, item)


@pytest.mark.parametrize("beam_size, num_return, min_length, block_ngram, length_penalty", [
    (3, 3, 2, 0, 0.7), (3, 2, 0, 1, 0.7), (4, 2, 3, 2, 1.0), (2, 1, 5, 3, 0.0), (3, 3, 0, 2, 0.5)])
def test_graph_min_length_and_ngram_blocking_equal_generate(beam_size, num_return, min_length, block_ngram,
                                                              length_penalty):
    model = CaptionModel.create(fit_caption_vocabulary(CAPTIONS, min_count=1, max_length=7), ENCODER,
                                embedding_dim=6, units=10)
    features = np.random.default_rng(1).normal(0, 3, (5, 12)).astype("float32")
    vocabulary = model.text_encoder.vocabulary
    search = tf.function(lambda features: graph_beam_search(
        model.decoder, features, bos_id=vocabulary.bos_id, eos_id=vocabulary.eos_id,
        banned_ids=(vocabulary.pad_id, vocabulary.unk_id, vocabulary.bos_id), max_length=8, beam_size=beam_size,
        num_return=num_return, length_penalty=length_penalty, min_length=min_length, block_ngram=block_ngram,
        eos_at_max_length=True))
    result = search(features)
    expected = model.generate(features, beam_size=beam_size, num_return=num_return, max_length=7,
                              min_length=min_length, block_ngram=block_ngram, length_penalty=length_penalty)
    for item, hyps in enumerate(expected):
        assert _hypotheses(result, item, num_return) == [(h.tokens, h.log_prob, h.score) for h in hyps], item
        for tokens, _, _ in _hypotheses(result, item, num_return):
            assert len(tokens) >= min_length
            if block_ngram:
                grams = [tuple(tokens[i : i + block_ngram]) for i in range(len(tokens) - block_ngram + 1)]
                assert len(grams) == len(set(grams)), tokens


def test_graph_detokenizer_equals_nltk_on_sequences_full_of_punctuation():
    from nltk.tokenize.treebank import TreebankWordDetokenizer

    pool = ["a", "dog", "Can", "can", "not", "gon", "na", "wan", "'t", "is", "was", "d", "'ye", "more", "'n", "gim",
            "me", "lem", "got", "ta", ".", ",", "'s", "'S", "n't", "N'T", "'ll", "'re", "'ve", "'m", "'d", "'", "``",
            "''", '"', "(", ")", "[", "]", "{", "}", "<", ">", "$", "#", "%", ";", ":", "!", "?", "...", "--", "-",
            "..", "x.", ".'", ".)", "&", "3", "4.5", "it", "ca", "'LL"]
    rng = random.Random(0)
    sequences = [[rng.choice(pool) for _ in range(rng.randint(0, 14))] for _ in range(5000)]
    got = treebank_detokenize(tf.constant([" ".join(words) for words in sequences])).numpy()
    detokenizer = TreebankWordDetokenizer()
    mismatches = [(words, text.decode()) for words, text in zip(sequences, got)
                  if text.decode() != detokenizer.detokenize(words)]
    assert mismatches == []


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_graph_decoding_and_resizing_match_the_python_image_loader(tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.clip(np.cumsum(rng.normal(0, 6, (60, 80, 3)), axis=1) + 128, 0, 255).astype(np.uint8)
    photo = Image.fromarray(smooth)
    alpha = Image.fromarray(np.concatenate([smooth, rng.integers(0, 256, (60, 80, 1), dtype=np.uint8)], -1), "RGBA")
    cases = {"jpeg": (_encoded(photo, "JPEG"), 0.01), "png": (_encoded(photo, "PNG"), 0.01),
             "grey png": (_encoded(photo.convert("L"), "PNG"), 0.01),
             "palette png": (_encoded(photo.convert("P"), "PNG"), 0.01),
             # Pillow composites transparency on white in integers, the graph in floats then rounds.
             "transparent png": (_encoded(alpha, "PNG"), 1.01)}
    for name, (data, tolerance) in cases.items():
        path = tmp_path / f"image.{name.replace(' ', '_')}"
        path.write_bytes(data)
        for size in ((60, 80), (32, 32), (100, 120)):
            got = decode_and_resize(tf.constant(data), size).numpy()
            want = load_image(path, size=size)
            assert np.abs(got - want).max() <= tolerance, (name, size)


def _png16(array: np.ndarray) -> bytes:
    """A 16-bit PNG (grey, grey + alpha, RGB or RGBA by the last axis) written by hand: Pillow cannot write one."""
    height, width = array.shape[:2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[1 if array.ndim == 2 else array.shape[2]]
    rows = b"".join(b"\0" + array[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def phone_photos(tmp_path_factory, request):
    """A photo as phones and other programs store it: JPEG with each EXIF orientation 1-8 (the same pixels, only
    the tag differs), a PNG with an eXIf orientation, a 12-megapixel JPEG on its side, CMYK and grey JPEGs,
    palette PNG and GIF, 16-bit PNGs.
    Made from a Flickr8k photo cut to 224 x 160 (not square, so a turn changes the shape), or a synthetic one."""
    try:
        source = Image.open(request.getfixturevalue("flickr_photos")[3]).convert("RGB").crop((0, 32, 224, 192))
    except pytest.skip.Exception:
        rng = np.random.default_rng(1)
        smooth = np.clip(np.cumsum(rng.normal(0, 6, (160, 224, 3)), axis=1) + 128, 0, 255).astype(np.uint8)
        source = Image.fromarray(smooth)
    folder = tmp_path_factory.mktemp("phone_photos")
    files = {}
    for orientation in range(1, 9):
        files[f"orientation_{orientation}.jpg"] = _encoded(source, "JPEG", quality=92, exif=_exif_bytes(orientation))
    files["orientation_6.png"] = _encoded(source, "PNG", exif=_exif_bytes(6))  # an eXIf chunk
    # A phone's 12 megapixels, on its side: decoded at a reduced scale (draft_for_size), then turned.
    files["phone_4000x3000_orientation_6.jpg"] = _encoded(source.resize((4000, 3000), Image.Resampling.BICUBIC),
                                                           "JPEG", quality=90, exif=_exif_bytes(6))
    files["cmyk.jpg"] = _encoded(source.convert("CMYK"), "JPEG", quality=92)
    files["grey.jpg"] = _encoded(source.convert("L"), "JPEG", quality=92)
    files["palette.png"] = _encoded(source.convert("P"), "PNG")
    files["palette.gif"] = _encoded(source.convert("P"), "GIF")
    wide = np.asarray(source, np.uint16) * 257 + np.random.default_rng(2).integers(0, 257, (160, 224, 3), np.uint16)
    files["grey_16_bit.png"] = _png16(wide[..., 0])
    files["rgb_16_bit.png"] = _png16(wide)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def _exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def test_the_graph_turns_and_converts_phone_photos_as_the_python_loader_does(phone_photos):
    upright = load_image(phone_photos[0], size=(160, 224))
    shapes = set()
    for path in phone_photos:
        data = tf.constant(path.read_bytes())
        with Image.open(path) as stored:
            mode, stored_size = stored.mode, stored.size
        # Turned before resizing, as Pillow's exif_transpose turns it: orientations 5-8 are 160 wide, 224 high.
        decoded = decode_rgb(data).numpy()
        if "orientation_" in path.stem and int(path.stem[-1]) >= 5:
            assert decoded.shape[:2] == stored_size
        if not path.stem.startswith("phone"):
            shapes.add(decoded.shape)
        for size in ((160, 224), (96, 96)):
            got = decode_and_resize(data, size).numpy()
            want = load_image(path, size=size)
            assert np.abs(got - want).max() <= 0.01, (path.name, mode, size)
        if path.stem.startswith("orientation_") and path.stem != "orientation_1":
            assert np.abs(load_image(path, size=(160, 224)) - upright).max() > 50  # really turned or mirrored
    assert shapes == {(160, 224, 3), (224, 160, 3)}


def test_graph_decoding_refuses_huge_and_non_image_bytes_clearly(bad_uploads):
    huge = bad_uploads["100-megapixel image"][1]  # a PNG header claiming 10000 x 10000 pixels
    with pytest.raises(tf.errors.InvalidArgumentError, match="more than 40000000 pixels"):
        decode_and_resize(tf.constant(huge), (16, 16), max_pixels=40_000_000)
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_and_resize(tf.constant(b"Shopping list: eggs, milk."), (16, 16))


@pytest.fixture(scope="module")
def exported(trained_captioner, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "shapes_savedmodel"
    return export_saved_model(trained_captioner[0], out, beam_size=3, num_captions=3)


# Run with -I -S (no user site, no .pth files, no current folder) on a copy of site-packages without Keras and
# without this project (the editable install's finder): TensorFlow and its own dependencies only.
_TF_ONLY = """
import json, sys
sys.path.append(sys.argv[1])
for name in ("captioner", "textmodels", "keras"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(f"{name} is importable here")
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[2]).signatures["serve"]
paths = json.loads(sys.argv[3])
out = serve(images=tf.constant([open(path, "rb").read() for path in paths]))
print(json.dumps({
    "captions": [[text.decode() for text in row] for row in out["captions"].numpy().tolist()],
    "scores": out["scores"].numpy().tolist(),
    "log_probs": out["log_probs"].numpy().tolist(),
}))
"""
_NOT_TENSORFLOW = ("keras", "tf_keras", "__editable__", "rnn_captioner", "captioner", "textmodels")


def _tensorflow_only_site_packages(folder):
    """A folder of links to every entry of site-packages but Keras and this project."""
    folder.mkdir()
    for site_packages in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for entry in os.listdir(site_packages):
            if not entry.startswith(_NOT_TENSORFLOW) and not entry.endswith(".pth") and not (folder / entry).exists():
                os.symlink(os.path.join(site_packages, entry), folder / entry)
    return folder


@pytest.mark.slow
def test_a_python_with_only_tensorflow_captions_photos_like_the_python_api(exported, trained_captioner, tmp_path,
                                                                           request, phone_photos):
    photos = list(trained_captioner[2][:10]) + phone_photos
    try:
        photos += request.getfixturevalue("flickr_photos")[:6]
    except pytest.skip.Exception:
        pass  # the synthetic photos alone still make the comparison
    site_packages = _tensorflow_only_site_packages(tmp_path / "site-packages")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _TF_ONLY, str(site_packages), str(exported),
         json.dumps([str(path.resolve()) for path in photos])],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])

    expected = Captioner.load(trained_captioner[0]).caption([str(path) for path in photos], beam_size=3,
                                                            return_scores=True)
    assert served["captions"] == [[c["caption"] for c in candidates] for candidates in expected]
    assert np.allclose(served["scores"], [[c["score"] for c in candidates] for candidates in expected], atol=1e-5)
    assert np.allclose(served["log_probs"], [[c["log_prob"] for c in candidates] for candidates in expected],
                       atol=1e-4)


@pytest.mark.slow
def test_export_command_replaces_an_older_export_and_refuses_other_folders(exported, trained_captioner, tmp_path,
                                                                          capsys):
    out = tmp_path / "exported"
    shutil.copytree(exported, out)  # an older export, with 3 captions per image
    assert main(["export", str(trained_captioner[0]), "--out-dir", str(out), "--beam-size", "2",
                 "--num-captions", "1"]) == 0
    assert f"saved {out}" in capsys.readouterr().out
    photo = trained_captioner[2][0]
    result = tf.saved_model.load(str(out)).signatures[SIGNATURE_NAME](images=tf.constant([photo.read_bytes()]))
    assert result["captions"].shape == (1, 1)
    assert result["captions"][0, 0].numpy().decode() == Captioner.load(trained_captioner[0]).caption(photo, beam_size=2)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no staging folder left

    busy = tmp_path / "notes"
    busy.mkdir()
    (busy / "todo.txt").write_text("keep me")
    assert main(["export", str(trained_captioner[0]), "--out-dir", str(busy)]) == 2
    assert "not a SavedModel folder" in capsys.readouterr().err
    assert (busy / "todo.txt").read_text() == "keep me"


def test_export_refuses_a_file_that_is_not_a_captioner(tmp_path, capsys):
    import keras

    other = tmp_path / "classifier.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(other)
    assert main(["export", str(other), "--out-dir", str(tmp_path / "out")]) == 2
    assert "not a captioner" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_blind_baseline_is_served_by_the_same_graph():
    model = CaptionModel.create(fit_caption_vocabulary(CAPTIONS, min_count=1), ENCODER, embedding_dim=6, units=10,
                                image_blind=True)
    image = _encoded(Image.new("RGB", (20, 20), (9, 9, 9)), "PNG")
    got = serving_function(model, beam_size=2, num_captions=1)(tf.constant([image, image]))["captions"]
    assert [text.decode() for text in got.numpy()[:, 0].tolist()] == [
        Captioner(model).caption(np.full((20, 20, 3), 9, np.uint8), beam_size=2)] * 2
