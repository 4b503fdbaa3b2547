"""Loading our `.keras` files with a clear error for anything else (a missing file, another archive, a model
that is not a textmodels classifier or tagger) instead of a deep Keras traceback.

Example:
    >>> try:
    ...     load_labeled_text_model("no-such-model.keras")
    ... except NotATextModelError as error:
    ...     print(str(error)[:37])
    no-such-model.keras: no such model fi
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import keras

from textmodels.classification.labeled_text_model import LabeledTextModel

# Importing the modules registers the classes, so keras.saving can rebuild them from their registered names.
from textmodels.tagging.recurrent_tagger import RecurrentTagger  # noqa: F401
from textmodels.classification.text_cnn import TextCNN  # noqa: F401
from textmodels.classification.text_rnn import TextRNN  # noqa: F401

CLASSIFIER_CLASSES = ("textmodels>TextRNN", "textmodels>TextCNN")
TAGGER_CLASSES = ("textmodels>RecurrentTagger",)


class NotATextModelError(ValueError):
    """The file is missing, not a `.keras` archive, or holds a model this package did not write.

    Example:
        >>> isinstance(NotATextModelError("x.keras: not ours"), ValueError)
        True
    """


def saved_class_name(path: str | Path) -> str:
    """The registered class name (``package>Class``) stored in a `.keras` file's ``config.json``.

    Example:
        >>> import tempfile, os, keras
        >>> path = os.path.join(tempfile.mkdtemp(), "plain.keras")
        >>> keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(path)
        >>> saved_class_name(path)
        'Sequential'
    """
    path = Path(path)
    if not path.is_file():
        raise NotATextModelError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise NotATextModelError(f"{path}: not a .keras model archive (expected a zip written by model.save)")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (KeyError, json.JSONDecodeError, zipfile.BadZipFile) as error:
        raise NotATextModelError(f"{path}: not a .keras model archive ({error})") from None
    if not isinstance(config, dict):
        raise NotATextModelError(f"{path}: config.json does not describe a Keras model")
    return str(config.get("registered_name") or config.get("class_name"))


def load_labeled_text_model(path: str | Path, accepted: Sequence[str] = CLASSIFIER_CLASSES + TAGGER_CLASSES):
    """The `LabeledTextModel` saved at ``path``, loaded with ``safe_mode=True``.

    Raises `NotATextModelError` naming the file when it is not one of ``accepted`` (e.g. a tagger where a
    classifier is expected, or a plain Keras model).
    """
    name = saved_class_name(path)
    if name not in accepted:
        kinds = ", ".join(entry.split(">")[-1] for entry in accepted)
        raise NotATextModelError(
            f"{path}: holds a {name.split('>')[-1]} model, not one of this package's {kinds} models"
        )
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for damaged files; report the file, not the internals.
        raise NotATextModelError(f"{path}: cannot load the model ({type(error).__name__}: {error})") from None
    if not isinstance(model, LabeledTextModel) or model.text_encoder is None or not model.label_names:
        raise NotATextModelError(f"{path}: the model lacks its text encoder or label names")
    return model


def save_labeled_text_model(network, path: str | Path) -> None:
    """Writes a trained network (weights, vocabularies, labels) to one `.keras` file; other suffixes raise.

    Example:
        >>> save_labeled_text_model(None, "model.h5")
        Traceback (most recent call last):
        ...
        ValueError: model.h5: the file name must end in .keras
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: the file name must end in .keras")
    network.save(path)
