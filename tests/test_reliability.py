"""Bad input, tried as a new user would: each case gives one clear, specific error naming the culprit (the option
and its value, the file, the line), or the documented behaviour. Across both command lines and the Python APIs:
options, images, caption files, tables, corpora, model files and run folders. Tiny models, built once.

Every case is one entry of `CASES`: ``(name, action, expected)``. ``action(w)`` gets the `World` (tiny models and
a scratch folder) and either raises or returns; ``expected`` is ``(exception type, regex)`` for a raised error, or
``("exit", code, regex)`` for a command's exit code and its standard error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captioner.api import Captioner, CaptionerLoadError
from captioner.data.images import ImageLoadError
from captioner.errors import DecodingSettingsError
from textmodels.classification import TextClassifier
from textmodels.errors import ConfigurationError
from textmodels.saving import ModelFileError, save_model
from textmodels.tagging import SequenceTagger
from textmodels.training import make_optimizer


@dataclass
class World:
    folder: Path
    classifier: Path
    language_model: Path
    captioner: Path
    photo: Path

    @cached_property
    def loaded_captioner(self) -> Captioner:
        return Captioner.load(self.captioner)

    def file(self, name: str, content: bytes | str = b"") -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    from captioner.model import CaptionModel, fit_caption_vocabulary
    from textmodels.classification import TextClassifier
    from textmodels.commands.runs import finish_run
    from textmodels.language_model import LanguageModel
    from textmodels.language_model.training import train_language_model

    models = tmp_path_factory.mktemp("models")
    classifier = TextClassifier("textrnn", units=4, embedding_dim=4, min_count=1)
    classifier.fit(
        ["good film", "bad film", "great fun", "awful mess"], ["pos", "neg", "pos", "neg"], epochs=1, verbose=0
    )
    classifier.save(models / "classifier.keras")
    train_language_model(
        "the cat sat on the mat\n" * 4,
        models / "lm.run",
        units=4,
        layers=1,
        batch_size=1,
        num_steps=3,
        epochs=1,
        verbose=0,
    )
    finish_run(models / "lm.run", models / "lm.keras", LanguageModel.load)
    model = CaptionModel.create(
        fit_caption_vocabulary(["a red circle", "a blue square"], min_count=1),
        {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8},
        embedding_dim=4,
        units=8,
    )
    Captioner(model).save(models / "captioner.keras")
    photo = models / "photo.png"
    Image.new("RGB", (20, 20), (200, 30, 30)).save(photo)
    return World(
        tmp_path_factory.mktemp("scratch"),
        models / "classifier.keras",
        models / "lm.keras",
        models / "captioner.keras",
        photo,
    )


@pytest.fixture(scope="module")
def captioner(world):
    return world.loaded_captioner


def textmodels_cli(*argv):
    from textmodels.cli import main

    return lambda w: main([str(a(w)) if callable(a) else str(a) for a in argv])


def captioner_cli(*argv):
    from captioner.cli import main

    return lambda w: main([str(a(w)) if callable(a) else str(a) for a in argv])


def float_tiff(w: World, name: str, value: float) -> Path:
    pixels = np.full((8, 8), 100.0, np.float32)
    pixels[3, 3] = value
    path = w.folder / name
    Image.fromarray(pixels, mode="F").save(path)
    return path


def symlink_loop(w: World, name: str) -> Path:
    first, second = w.folder / name, w.folder / f"{name}.other"
    for link, target in ((first, second), (second, first)):
        if not link.is_symlink():
            link.symlink_to(target)
    return first


def dangling_link(w: World, name: str) -> Path:
    link = w.folder / name
    if not link.is_symlink():
        link.symlink_to(w.folder / "nowhere.png")
    return link


def folder_named(w: World, name: str) -> Path:
    (w.folder / name).mkdir(exist_ok=True)
    return w.folder / name


def truncated_copy(w: World, source_attribute: str, name: str) -> Path:
    data = getattr(w, source_attribute).read_bytes()
    return w.file(name, data[: len(data) // 2])


def table(name: str, content: str):
    return lambda w: w.file(name, content)


def caption_with(**options):
    def act(w):
        return w.loaded_captioner.caption(w.photo, **options)

    return act


def caption_one(make_source):
    def act(w):
        return w.loaded_captioner.caption(make_source(w))

    return act


def train_lm_with(**options):
    def act(w):
        from textmodels.language_model.training import train_language_model

        settings = dict(units=4, layers=1, batch_size=1, num_steps=3, epochs=1, verbose=0) | options
        return train_language_model("a b c a b c\n", w.folder / "never.run", **settings)

    return act


def train_captioner_with(**options):
    def act(w):
        from captioner.config import CaptionerConfig
        from captioner.training import train_captioner

        return train_captioner([], CaptionerConfig(**options), verbose=0)

    return act


def run_folder_with(w: World, name: str, last: Path | None = None, state: str | None = None) -> Path:
    run = w.folder / name
    run.mkdir(exist_ok=True)
    if last is not None:
        (run / "last.keras").write_bytes(last.read_bytes())
    if state is not None:
        (run / "state.json").write_text(state)
    return run


def resume_classifier(make_run):
    data = "text,label\ngood,pos\nbad,neg\nfine,pos\nawful,neg\n"
    return lambda w: textmodels_cli(
        "train-classifier",
        w.file("resume.csv", data),
        "--out",
        w.folder / "r.keras",
        "--run-dir",
        make_run(w),
        "--resume",
        "--epochs",
        "2",
    )(w)


TRAIN_CSV = "text,label\ngood,pos\nbad,neg\n"
CAPTIONS = '{"images": [{"id": 1, "file_name": "photo.png"}], "annotations": [{"image_id": 1, "caption": "a"}]}'


def load_classifier(make_path):
    def act(w):
        from textmodels.classification import TextClassifier

        return TextClassifier.load(make_path(w))

    return act


def train_classifier(*options):
    return textmodels_cli(
        "train-classifier", lambda w: w.file("t.csv", TRAIN_CSV), "--out", lambda w: w.folder / "o.keras", *options
    )


def train_lm(*options):
    return textmodels_cli(
        "train-lm", lambda w: w.file("c.txt", "a b c\n"), "--out", lambda w: w.folder / "l.keras", *options
    )


def captioner_train(*options):
    return captioner_cli(
        "train",
        lambda w: w.file("c.json", CAPTIONS),
        "--images",
        lambda w: w.folder,
        "--out",
        lambda w: w.folder / "c.keras",
        *options,
    )


def exit_with(code: int, pattern: str):
    return ("exit", code, pattern)


CASES = [
    # --- options, command line: refused by argparse, naming the option and the value --------------------
    (
        "classifier --epochs 0",
        train_classifier("--epochs", "0"),
        exit_with(2, r"--epochs: must be a positive integer, got 0"),
    ),
    (
        "classifier --epochs -1",
        train_classifier("--epochs", "-1"),
        exit_with(2, r"--epochs: must be a positive integer, got -1"),
    ),
    (
        "classifier --learning-rate -1",
        train_classifier("--learning-rate", "-1"),
        exit_with(2, r"--learning-rate: must be a number > 0, got -1"),
    ),
    (
        "classifier --learning-rate 0",
        train_classifier("--learning-rate", "0"),
        exit_with(2, r"--learning-rate: must be a number > 0, got 0"),
    ),
    (
        "classifier --learning-rate nan",
        train_classifier("--learning-rate", "nan"),
        exit_with(2, r"--learning-rate: must be a number > 0, got nan"),
    ),
    (
        "classifier --dropout 1.5",
        train_classifier("--dropout", "1.5"),
        exit_with(2, r"--dropout: must be in \[0, 1\), got 1.5"),
    ),
    (
        "classifier --batch-size 0",
        train_classifier("--batch-size", "0"),
        exit_with(2, r"--batch-size: must be a positive integer, got 0"),
    ),
    (
        "classifier --max-length 0",
        train_classifier("--max-length", "0"),
        exit_with(2, r"--max-length: must be a positive integer, got 0"),
    ),
    (
        "classifier --units 0",
        train_classifier("--units", "0"),
        exit_with(2, r"--units: must be a positive integer, got 0"),
    ),
    (
        "classifier --clipnorm -1",
        train_classifier("--clipnorm", "-1"),
        exit_with(2, r"--clipnorm: must be a number >= 0, got -1"),
    ),
    (
        "classifier --patience -1",
        train_classifier("--patience", "-1"),
        exit_with(2, r"--patience: must be an integer >= 0, got -1"),
    ),
    (
        "classifier --val-fraction 1",
        train_classifier("--val-fraction", "1"),
        exit_with(2, r"--val-fraction: must be in \[0, 1\), got 1"),
    ),
    (
        "classifier --threshold 1.5",
        train_classifier("--threshold", "1.5"),
        exit_with(2, r"--threshold: must be in \(0, 1\), got 1.5"),
    ),
    (
        "classifier --epochs abc",
        train_classifier("--epochs", "abc"),
        exit_with(2, r"--epochs: invalid int value: 'abc'"),
    ),
    ("lm --num-steps 0", train_lm("--num-steps", "0"), exit_with(2, r"--num-steps: must be a positive integer, got 0")),
    ("lm --lr-decay 0", train_lm("--lr-decay", "0"), exit_with(2, r"--lr-decay: must be a number > 0, got 0")),
    (
        "lm --init-scale -0.1",
        train_lm("--init-scale", "-0.1"),
        exit_with(2, r"--init-scale: must be a number > 0, got -0.1"),
    ),
    (
        "lm --learning-rate -0.5",
        train_lm("--learning-rate", "-0.5"),
        exit_with(2, r"--learning-rate: must be a number > 0"),
    ),
    (
        "generate --top-p 1.5",
        textmodels_cli("generate", "m.keras", "--top-p", "1.5"),
        exit_with(2, r"--top-p: must be in \(0, 1\], got 1.5"),
    ),
    (
        "generate --temperature -1",
        textmodels_cli("generate", "m.keras", "--temperature", "-1"),
        exit_with(2, r"--temperature: must be a number >= 0, got -1"),
    ),
    (
        "generate --max-tokens 0",
        textmodels_cli("generate", "m.keras", "--max-tokens", "0"),
        exit_with(2, r"--max-tokens: must be a positive integer, got 0"),
    ),
    (
        "generate --top-k 0",
        textmodels_cli("generate", "m.keras", "--top-k", "0"),
        exit_with(2, r"--top-k: must be a positive integer, got 0"),
    ),
    (
        "captioner train --epochs 0",
        captioner_train("--epochs", "0"),
        exit_with(2, r"--epochs: must be a positive integer, got 0"),
    ),
    (
        "captioner train --batch-size 0",
        captioner_train("--batch-size", "0"),
        exit_with(2, r"--batch-size: must be a positive integer, got 0"),
    ),
    (
        "captioner train --learning-rate -1",
        captioner_train("--learning-rate", "-1"),
        exit_with(2, r"--learning-rate: must be a number > 0, got -1"),
    ),
    (
        "captioner train --lr-reduce-factor 1.5",
        captioner_train("--lr-reduce-factor", "1.5"),
        exit_with(2, r"--lr-reduce-factor: must be in \(0, 1\), got 1.5"),
    ),
    (
        "captioner train --conv-filters 0,4",
        captioner_train("--conv-filters", "0,4"),
        exit_with(2, r"--conv-filters: must be comma-separated positive integers, got '0,4'"),
    ),
    (
        "captioner train --image-size 0",
        captioner_train("--image-size", "0"),
        exit_with(2, r"--image-size: must be a positive integer, got 0"),
    ),
    (
        "captioner train --dropout 1.5",
        captioner_train("--dropout", "1.5"),
        exit_with(2, r"--dropout: must be in \[0, 1\), got 1.5"),
    ),
    (
        "captioner caption --beam-size 0",
        captioner_cli("caption", "m.keras", "p.jpg", "--beam-size", "0"),
        exit_with(2, r"--beam-size: must be a positive integer, got 0"),
    ),
    (
        "captioner serve --port -1",
        captioner_cli("serve", "m.keras", "--port", "-1"),
        exit_with(2, r"--port: must be an integer >= 0, got -1"),
    ),
    (
        "captioner serve --max-batch 0",
        captioner_cli("serve", "m.keras", "--max-batch", "0"),
        exit_with(2, r"--max-batch: must be a positive integer, got 0"),
    ),
    (
        "captioner evaluate --length-penalty -1",
        captioner_cli("evaluate", "m.keras", "c.json", "--images", ".", "--length-penalty", "-1"),
        exit_with(2, r"--length-penalty: must be a number >= 0, got -1"),
    ),
    # --- options, Python API: the same rules, naming the argument --------------------------------------
    (
        "Captioner.load(None)",
        lambda w: Captioner.load(None),
        (CaptionerLoadError, r"needs the path of a \.keras file, got None"),
    ),
    (
        "caption(batch_size=0)",
        caption_with(batch_size=0),
        (ConfigurationError, r"batch_size must be a positive integer, got 0"),
    ),
    ("caption(seed='abc')", caption_with(seed="abc"), (ConfigurationError, r"seed must be an integer, got 'abc'")),
    (
        "caption(max_length=0)",
        caption_with(max_length=0),
        (DecodingSettingsError, r"max_length must be None or an integer from 1 to 200, got 0"),
    ),
    (
        "caption(max_length=-1)",
        caption_with(max_length=-1),
        (DecodingSettingsError, r"max_length must be None or an integer from 1 to 200, got -1"),
    ),
    (
        "caption(beam_size=0)",
        caption_with(beam_size=0),
        (DecodingSettingsError, r"beam_size must be an integer from 1 to 100, got 0"),
    ),
    (
        "caption(temperature=-1)",
        caption_with(temperature=-1.0),
        (ConfigurationError, r"temperature must be a number >= 0, got -1.0"),
    ),
    (
        "TextClassifier(units=0)",
        lambda w: TextClassifier(units=0),
        (ConfigurationError, r"units must be a positive integer, got 0"),
    ),
    (
        "TextClassifier(dropout=1.5)",
        lambda w: TextClassifier(dropout=1.5),
        (ConfigurationError, r"dropout must be in \[0, 1\), got 1\.5"),
    ),
    (
        "TextClassifier(filter_widths=(3, 0))",
        lambda w: TextClassifier("textcnn", filter_widths=(3, 0)),
        (ConfigurationError, r"filter_widths\[1\] must be a positive integer, got 0"),
    ),
    (
        "TextClassifier(threshold=1.0)",
        lambda w: TextClassifier(threshold=1.0),
        (ConfigurationError, r"threshold must be in \(0, 1\), got 1\.0"),
    ),
    (
        "SequenceTagger(learning_rate=-1)",
        lambda w: SequenceTagger(learning_rate=-1),
        (ConfigurationError, r"learning_rate must be a number > 0, got -1"),
    ),
    (
        "SequenceTagger(suffix_length=0)",
        lambda w: SequenceTagger(suffix_length=0),
        (ConfigurationError, r"suffix_length must be a positive integer, got 0"),
    ),
    (
        "train_language_model(learning_rate=-1)",
        train_lm_with(learning_rate=-1.0),
        (ConfigurationError, r"learning_rate must be a number > 0, got -1.0"),
    ),
    (
        "train_language_model(epochs=0)",
        train_lm_with(epochs=0),
        (ConfigurationError, r"epochs must be a positive integer, got 0"),
    ),
    (
        "train_language_model(dropout=1.5)",
        train_lm_with(dropout=1.5),
        (ConfigurationError, r"dropout must be in \[0, 1\), got 1.5"),
    ),
    (
        "make_optimizer(learning_rate=-0.1)",
        lambda w: make_optimizer("adam", -0.1),
        (ConfigurationError, r"learning_rate must be a number > 0, got -0.1"),
    ),
    (
        "train_captioner(epochs=0)",
        train_captioner_with(epochs=0),
        (ConfigurationError, r"epochs must be a positive integer, got 0"),
    ),
    (
        "train_captioner(batch_size=0)",
        train_captioner_with(batch_size=0),
        (ConfigurationError, r"batch_size must be a positive integer, got 0"),
    ),
    (
        "train_captioner(learning_rate=-1)",
        train_captioner_with(learning_rate=-1.0),
        (ConfigurationError, r"learning_rate must be a number > 0, got -1.0"),
    ),
    # --- images: refused one by one, naming the file -----------------------------------------------------
    (
        "NaN float TIFF",
        caption_one(lambda w: float_tiff(w, "nan.tif", float("nan"))),
        (ImageLoadError, r"nan\.tif.*non-finite pixel values"),
    ),
    (
        "infinite float TIFF",
        caption_one(lambda w: float_tiff(w, "inf.tif", float("inf"))),
        (ImageLoadError, r"inf\.tif.*non-finite pixel values"),
    ),
    (
        "folder named x.jpg",
        caption_one(lambda w: folder_named(w, "x.jpg")),
        (ImageLoadError, r"x\.jpg' is a folder, not an image"),
    ),
    (
        "symbolic-link loop as image",
        caption_one(lambda w: symlink_loop(w, "loop.jpg")),
        (ImageLoadError, r"loop\.jpg' cannot be opened \(Too many levels of symbolic links\)"),
    ),
    (
        "dangling link as image",
        caption_one(lambda w: dangling_link(w, "gone.jpg")),
        (ImageLoadError, r"gone\.jpg' is a symbolic link to a missing file"),
    ),
    (
        "empty image file",
        caption_one(lambda w: w.file("empty.jpg")),
        (ImageLoadError, r"empty\.jpg' is empty \(0 bytes\)"),
    ),
    (
        "text renamed .jpg",
        caption_one(lambda w: w.file("notes.jpg", "shopping list\n" * 20)),
        (ImageLoadError, r"notes\.jpg' cannot be decoded"),
    ),
    (
        "truncated PNG",
        caption_one(lambda w: truncated_copy(w, "photo", "cut.png")),
        (ImageLoadError, r"cut\.png' cannot be decoded"),
    ),
    ("missing image", caption_one(lambda w: w.folder / "absent.jpg"), (ImageLoadError, r"absent\.jpg' does not exist")),
    (
        "array of 4 channels",
        caption_one(lambda w: np.zeros((8, 8, 4), np.uint8)),
        (ImageLoadError, r"array of shape \(8, 8, 4\).*expected shape"),
    ),
    (
        "float array with NaN",
        caption_one(lambda w: np.full((8, 8, 3), np.nan, np.float32)),
        (ImageLoadError, r"must be finite"),
    ),
    (
        "a dict as image",
        caption_one(lambda w: {"pixels": 1}),
        (ImageLoadError, r"expected a path, a PIL image or a NumPy array"),
    ),
    # --- model files ----------------------------------------------------------------------------------------
    (
        "truncated model",
        load_classifier(lambda w: truncated_copy(w, "classifier", "cut.keras")),
        (ModelFileError, r"cut\.keras: the \.keras archive is truncated or damaged"),
    ),
    (
        "folder as model",
        textmodels_cli("classify", lambda w: folder_named(w, "dir.keras"), "a"),
        exit_with(2, r"dir\.keras: is a folder, not a \.keras model file"),
    ),
    (
        "symbolic-link loop as model",
        textmodels_cli("classify", lambda w: symlink_loop(w, "loop.keras"), "a"),
        exit_with(2, r"loop\.keras: cannot open the model file \(Too many levels of symbolic links\)"),
    ),
    (
        "dangling link as model",
        captioner_cli("caption", lambda w: dangling_link(w, "gone.keras"), lambda w: w.photo),
        exit_with(2, r"gone\.keras: a symbolic link to a missing file"),
    ),
    (
        "text file as model",
        textmodels_cli("classify", lambda w: w.file("notes.keras", "not a model"), "a"),
        exit_with(2, r"notes\.keras: not a \.keras model archive"),
    ),
    (
        "classifier given to captioner",
        captioner_cli("caption", lambda w: w.classifier, lambda w: w.photo),
        exit_with(2, r"classifier\.keras: holds a TextRNN model, not a captioner \(CaptionModel\)"),
    ),
    (
        "language model given to classify",
        textmodels_cli("classify", lambda w: w.language_model, "a"),
        exit_with(2, r"lm\.keras: holds a LanguageModel model, not a text classifier"),
    ),
    (
        "captioner given to perplexity",
        textmodels_cli("perplexity", lambda w: w.captioner, lambda w: w.file("p.txt", "a b\n")),
        exit_with(2, r"captioner\.keras: holds a CaptionModel model, not a language model"),
    ),
    (
        "missing model",
        textmodels_cli("classify", "no-such.keras", "a"),
        exit_with(2, r"no-such\.keras: no such model file"),
    ),
    (
        "save to .h5",
        lambda w: save_model(None, w.folder / "m.h5"),
        (ModelFileError, r"m\.h5: the file name must end in \.keras"),
    ),
    # --- run folders ------------------------------------------------------------------------------------
    (
        "--resume on a language model's run",
        resume_classifier(lambda w: run_folder_with(w, "lm.run", w.language_model.with_suffix(".run") / "last.keras")),
        exit_with(
            2, r"Cannot resume: .*last\.keras: holds a LanguageModel model, not a text classifier \(TextRNN, TextCNN\)"
        ),
    ),
    (
        "--resume without a checkpoint",
        resume_classifier(lambda w: run_folder_with(w, "empty.run")),
        exit_with(2, r"Cannot resume: no checkpoint in .*empty\.run"),
    ),
    (
        "--resume on a truncated last.keras",
        resume_classifier(lambda w: run_folder_with(w, "cut.run", truncated_copy(w, "classifier", "cut2.keras"))),
        exit_with(2, r"Cannot resume: .*cut\.run/last\.keras: the \.keras archive is truncated"),
    ),
    (
        "--resume with a corrupt state.json",
        resume_classifier(lambda w: run_folder_with(w, "bad.run", w.classifier, "{epoch")),
        exit_with(2, r"Cannot resume: .*bad\.run/state\.json is damaged"),
    ),
    # --- tables, corpora, caption files --------------------------------------------------------------------
    (
        "CSV with an unclosed quote",
        textmodels_cli(
            "train-classifier",
            table("q.csv", 'text,label\ngood,pos\n"bad film,neg\nok,pos\nfine,neg\n'),
            "--out",
            lambda w: w.folder / "q.keras",
        ),
        exit_with(2, r"q\.csv, line 3: a quote opens a field here and never closes"),
    ),
    (
        "CSV without its label column",
        textmodels_cli(
            "train-classifier",
            table("nolabel.csv", "text,score\ngood,1\nbad,0\n"),
            "--out",
            lambda w: w.folder / "n.keras",
        ),
        exit_with(2, r"nolabel\.csv.*label"),
    ),
    (
        "empty CSV",
        textmodels_cli("train-classifier", table("empty.csv", ""), "--out", lambda w: w.folder / "e.keras"),
        exit_with(2, r"empty\.csv"),
    ),
    (
        "CSV that is not UTF-8",
        textmodels_cli(
            "train-classifier",
            lambda w: w.file("latin.csv", b"text,label\ncaf\xe9,pos\nbad,neg\n"),
            "--out",
            lambda w: w.folder / "l.keras",
        ),
        exit_with(2, r"latin\.csv, line 2: byte offset 14 is not valid utf-8"),
    ),
    (
        "empty corpus",
        textmodels_cli("train-lm", table("blank.txt", "\n\n"), "--out", lambda w: w.folder / "b.keras"),
        exit_with(2, r"blank\.txt: the corpus is empty"),
    ),
    (
        "folder as corpus",
        textmodels_cli("perplexity", lambda w: w.language_model, lambda w: folder_named(w, "texts")),
        exit_with(2, r"texts: is a folder, not a file"),
    ),
    (
        "missing corpus",
        textmodels_cli("perplexity", lambda w: w.language_model, "absent.txt"),
        exit_with(2, r"absent\.txt: file not found"),
    ),
    (
        "caption JSON that is not JSON",
        captioner_cli(
            "train",
            table("broken.json", "{not json"),
            "--images",
            lambda w: w.folder,
            "--out",
            lambda w: w.folder / "x.keras",
        ),
        exit_with(2, r"broken\.json"),
    ),
    (
        "missing caption file",
        captioner_cli("train", "absent.json", "--images", ".", "--out", lambda w: w.folder / "x.keras"),
        exit_with(2, r"absent\.json' does not exist"),
    ),
]


@pytest.mark.parametrize(("name", "action", "expected"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    if expected[0] == "exit":
        _, code, pattern = expected
        assert action(world) == code
        err = capsys.readouterr().err
        assert err.count("error: ") == 1 or "usage:" in err, err
        assert re.search(pattern, err), err
    else:
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            action(world)


def test_there_are_at_least_sixty_distinct_cases():
    assert len({name for name, _, _ in CASES}) == len(CASES) >= 60


def test_a_bad_photo_in_a_batch_is_named_and_the_others_are_captioned(world, captioner):
    bad = float_tiff(world, "batch_nan.tif", float("nan"))
    results = captioner.caption([world.photo, bad, world.photo], beam_size=2)
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert not results[1] and results[1].index == 1 and "batch_nan.tif" in results[1].error


def test_a_numerical_failure_inside_a_batch_is_traced_to_its_image(world, captioner, monkeypatch):
    """A failure the loader cannot see (here: the decoder raising on one image's features) is retried image by
    image: the image that causes it is reported, the others captioned."""
    real_generate = captioner.model.generate

    def generate(features, **settings):
        if np.any(np.asarray(features)[:, 0] == 0):  # the black photo's features, made to fail
            raise FloatingPointError("beam search met NaN scores")
        return real_generate(features, **settings)

    black = np.zeros((16, 16, 3), np.uint8)
    real_encode = captioner.model.encode_images
    monkeypatch.setattr(
        captioner.model,
        "encode_images",
        lambda pixels: np.where(
            np.asarray(pixels).max(axis=(1, 2, 3), keepdims=True)[:, :, 0, 0] == 0,
            0.0,
            np.asarray(real_encode(pixels)) + 1e3,
        ),
    )
    monkeypatch.setattr(captioner.model, "generate", generate)
    results = captioner.caption([world.photo, black, world.photo], beam_size=2)
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert not results[1] and "FloatingPointError: beam search met NaN scores" in results[1].error
    with pytest.raises(FloatingPointError):  # every image failing alike is the model's fault: raised
        captioner.caption([black, black], beam_size=2)


def test_caption_folder_names_the_bad_photo_and_captions_the_others(world, capsys):
    from captioner.cli import main

    folder = world.folder / "photos"
    folder.mkdir(exist_ok=True)
    Image.new("RGB", (20, 20), (10, 200, 10)).save(folder / "green.png")
    Image.new("RGB", (20, 20), (10, 10, 200)).save(folder / "blue.png")
    float_tiff(world, "photos/nan.tif", float("nan"))
    assert main(["caption", str(world.captioner), str(folder)]) == 1
    captured = capsys.readouterr()
    assert {line.split("\t")[0] for line in captured.out.splitlines()} >= {"green.png", "blue.png"}
    assert "nan.tif" in captured.err and "non-finite" in captured.err


def test_options_may_come_anywhere(world, capsys):
    from textmodels.cli import main

    assert main(["classify", str(world.classifier), "--json", "a fine film", "a dull one"]) == 0
    assert capsys.readouterr().out.count('"text"') == 2


def test_commands_read_pipes_and_standard_input_and_print_no_tensorflow_log_lines(world):
    """``perplexity`` on ``-`` (standard input) in a fresh process: the score, and not one TensorFlow log line
    even with TF_CPP_MIN_LOG_LEVEL=2 (``--verbose`` brings them back)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "textmodels.cli", "perplexity", str(world.language_model), "-"]
    result = subprocess.run(command, input="the cat sat\n", env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.startswith("perplexity "), result.stderr
    assert result.stderr == "", result.stderr


def test_help_prints_no_log_lines():
    result = subprocess.run(
        [sys.executable, "-m", "captioner.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "" and "usage: captioner" in result.stdout
