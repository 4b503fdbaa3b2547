"""Bad input, tried as a new user would: the shared pieces of the tests that check that each case gives one clear,
specific error naming the culprit (the option and its value, the file, the line), or the documented behaviour.
The cases live beside the code they exercise (``test_*_errors.py``: options, arguments, images, model files, run
folders, tables, corpora, caption files); each file lists its cases and runs them with `run_case`.

A case is ``(name, action, expected)``: ``action(w)`` gets the `World` (tiny models, built once per test session
when a case first needs them, and a scratch folder per test module) and either raises or returns; ``expected`` is
``(exception type, regex)`` for a raised error, or ``exit_with(code, regex)`` for a command's exit code and its
standard error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


class TinyModels:
    """One tiny model of each kind, trained or built on first use, in one folder for the whole session."""

    def __init__(self, folder: Path):
        self.folder = folder

    @cached_property
    def classifier(self) -> Path:
        from textmodels.classification import TextClassifier

        classifier = TextClassifier("textrnn", units=4, embedding_dim=4, min_count=1)
        classifier.fit(["good film", "bad film", "great fun", "awful mess"], ["pos", "neg", "pos", "neg"], epochs=1,
                       verbose=0)
        classifier.save(self.folder / "classifier.keras")
        return self.folder / "classifier.keras"

    @cached_property
    def language_model(self) -> Path:
        from textmodels.language_model.training import train_language_model

        train_language_model("the cat sat on the mat\n" * 4, out=self.folder / "lm.keras", units=4, layers=1,
                             batch_size=1, num_steps=3, epochs=1, verbose=0)
        return self.folder / "lm.keras"

    @cached_property
    def captioner(self) -> Path:
        from captioner.api import Captioner
        from captioner.model import CaptionModel, fit_caption_vocabulary

        model = CaptionModel.create(
            fit_caption_vocabulary(["a red circle", "a blue square"], min_count=1),
            {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8,
        )
        return Captioner(model).save(self.folder / "captioner.keras")

    @cached_property
    def photo(self) -> Path:
        Image.new("RGB", (20, 20), (200, 30, 30)).save(self.folder / "photo.png")
        return self.folder / "photo.png"

    @cached_property
    def loaded_captioner(self):
        from captioner.api import Captioner

        return Captioner.load(self.captioner)


@dataclass
class World:
    """What a case acts on: a scratch folder of the test module's own, and the session's `TinyModels`, whose
    models it answers for (``w.classifier``, ``w.language_model``, ``w.captioner``, ``w.photo``,
    ``w.loaded_captioner``)."""

    folder: Path
    models: TinyModels

    def __getattr__(self, name: str):
        return getattr(self.models, name)

    def file(self, name: str, content: bytes | str = b"") -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path


def exit_with(code: int, pattern: str):
    return ("exit", code, pattern)


def run_case(world: World, capsys, action, expected) -> None:
    """Runs one case and checks what it gave: one ``error:`` line (or argparse's usage) matching the pattern
    with the expected exit code, or the expected exception."""
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


def cases(case_list):
    """``@cases(CASES)``: one test per case, named after it (the names must be distinct)."""
    names = [case[0] for case in case_list]
    assert len(set(names)) == len(names), f"case names repeat: {sorted({n for n in names if names.count(n) > 1})}"
    return pytest.mark.parametrize(("name", "action", "expected"), case_list, ids=[case[0] for case in case_list])


def textmodels_cli(*argv):
    """A case action running ``textmodels`` with ``argv`` (callables get the world: paths made on the fly)."""
    from textmodels.cli import main

    return lambda w: main([str(a(w)) if callable(a) else str(a) for a in argv])


def captioner_cli(*argv):
    """A case action running ``captioner`` with ``argv``."""
    from captioner.cli import main

    return lambda w: main([str(a(w)) if callable(a) else str(a) for a in argv])


def float_tiff(w: World, name: str, value: float) -> Path:
    """An 8x8 float TIFF with ``value`` in one pixel."""
    pixels = np.full((8, 8), 100.0, np.float32)
    pixels[3, 3] = value
    path = w.folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
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
