"""One checked loader and one atomic saver for every saved model of the project (classifiers, taggers, language
models, captioners): the ``load``/``save`` pair of each user-facing model goes through here.

`load_model` reads the archive's ``config.json`` once to learn which class the file holds, and refuses, naming
the file, what it holds and what was expected, anything else: a missing file, a file that is not a `.keras`
archive, or another kind of model; only then does Keras rebuild the model (``safe_mode=True``). `save_model`
writes a temporary file in the same folder, syncs it to disk and renames it over the target, so an interrupted
save never leaves a broken model where a good one was.

Example:
    >>> import os, tempfile, keras
    >>> path = os.path.join(tempfile.mkdtemp(), "plain.keras")
    >>> _ = save_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), path)
    >>> saved_class_name(path)
    'Sequential'
    >>> from textmodels.classification import TextCNN, TextRNN
    >>> try:
    ...     load_model(path, expected=[TextRNN, TextCNN], what="a text classifier")
    ... except ModelFileError as error:
    ...     print(str(error).split(": ", 1)[1])
    holds a Sequential model, not a text classifier (TextRNN, TextCNN)
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras

from textmodels.atomic_files import replace_atomically
from textmodels.errors import TextmodelsError


class ModelFileError(TextmodelsError, ValueError):
    """A model file that is missing, is not a `.keras` archive, or holds another kind of model than expected.

    Example:
        >>> isinstance(ModelFileError("x.keras: no such model file"), ValueError)
        True
    """


def saved_class_name(path: str | Path, error: type[ModelFileError] = ModelFileError) -> str:
    """The class stored in a `.keras` file's ``config.json``: its registered name (``package>Class``) for our
    models, the plain class name for Keras' own; ``error`` (a `ModelFileError` subclass) when it is unreadable.

    Example:
        >>> try:
        ...     saved_class_name("no-such-model.keras")
        ... except ModelFileError as error:
        ...     print(error)
        no-such-model.keras: no such model file
    """
    path = Path(path)
    _check_model_path(path, error)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            started_as_zip = handle.read(4) == b"PK\x03\x04"
        if started_as_zip:  # a zip's directory is at its end: a cut-off archive still starts like one
            raise error(f"{path}: the .keras archive is truncated or damaged (its end is missing)")
        raise error(f"{path}: not a .keras model archive (expected a zip written by a model's save)")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (KeyError, json.JSONDecodeError, UnicodeDecodeError, zipfile.BadZipFile) as reason:
        raise error(f"{path}: not a .keras model archive ({reason})") from None
    if not isinstance(config, dict) or not (config.get("registered_name") or config.get("class_name")):
        raise error(f"{path}: config.json does not describe a Keras model")
    return str(config.get("registered_name") or config.get("class_name"))


def load_model(
    path: str | Path,
    expected: Sequence[type],
    what: str,
    compile: bool = True,
    error: type[ModelFileError] = ModelFileError,
):
    """The model saved at ``path`` when it is an instance of one of the ``expected`` classes, else ``error``
    naming the file, the class it holds and ``what`` was expected (e.g. ``"a text classifier"``).

    Example:
        >>> import os, tempfile, keras, numpy as np
        >>> from textmodels.classification import TextRNN
        >>> path = os.path.join(tempfile.mkdtemp(), "dense.keras")
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> _ = save_model(model, path)
        >>> loaded = load_model(path, expected=[keras.Sequential], what="a Sequential model")
        >>> bool(np.array_equal(loaded.predict(np.ones((1, 2)), verbose=0), model.predict(np.ones((1, 2)), verbose=0)))
        True
        >>> try:
        ...     load_model(path, expected=[TextRNN], what="a text classifier")
        ... except ModelFileError as error:
        ...     print(str(error).replace(path, "dense.keras"))
        dense.keras: holds a Sequential model, not a text classifier (TextRNN)
    """
    name = saved_class_name(path, error)
    accepted = {keras.saving.get_registered_name(cls): cls for cls in expected}
    if name not in accepted:
        names = ", ".join(entry.split(">")[-1] for entry in accepted)
        raise error(f"{path}: holds a {name.split('>')[-1]} model, not {what} ({names})")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=compile)
    except Exception as reason:  # Keras raises many types for damaged files; report the file, not the internals.
        kind = name.split(">")[-1]
        raise error(f"{path}: cannot load the {kind} model ({type(reason).__name__}: {reason})") from None
    if not isinstance(model, tuple(expected)):
        raise error(f"{path}: holds a {type(model).__name__}, not {what}")
    return model


def _check_model_path(path: Path, error: type[ModelFileError]) -> None:
    """``error`` saying what ``path`` is instead of a model file: missing, a folder, a symbolic-link loop."""
    try:
        path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise error(f"{path}: a symbolic link to a missing file ({os.readlink(path)})") from None
        raise error(f"{path}: no such model file") from None
    except OSError as reason:  # ELOOP for a link cycle, EACCES, ...: the system's own words are the clearest
        raise error(f"{path}: cannot open the model file ({reason.strerror})") from None
    if path.is_dir():
        raise error(f"{path}: is a folder, not a .keras model file")
    if not path.is_file():
        raise error(f"{path}: not a regular file, so not a .keras model file")


def save_model(model, path: str | Path, extras: Mapping[str, str] | None = None) -> Path:
    """Writes ``model`` to the `.keras` file ``path`` atomically (temporary file, fsync, rename); returns it.
    ``extras`` (``{member name: text}``) are stored in the archive too, inside the same atomic write (a run
    folder keeps its state in its checkpoint this way); Keras ignores them on load (`read_archive_text`).

    Example:
        >>> save_model(None, "model.h5")
        Traceback (most recent call last):
        ...
        textmodels.saving.ModelFileError: model.h5: the file name must end in .keras
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: the file name must end in .keras")

    def write(temporary: Path) -> None:
        keras.saving.save_model(model, temporary)
        if extras:
            with zipfile.ZipFile(temporary, "a") as archive:
                for name, text in extras.items():
                    archive.writestr(name, text)

    return replace_atomically(path, write)


def read_archive_text(path: str | Path, name: str) -> str | None:
    """The member ``name`` of the `.keras` archive ``path`` as text (stored with `save_model`'s ``extras``),
    None when the archive has no such member; `ModelFileError` when ``path`` is not a complete archive.

    Example:
        >>> import os, tempfile, keras
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> _ = save_model(model, path, extras={"note.txt": "hello"})
        >>> read_archive_text(path, "note.txt"), read_archive_text(path, "other.txt")
        ('hello', None)
    """
    saved_class_name(path)  # the checks and messages of every model file
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(name).decode("utf-8") if name in archive.namelist() else None
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as reason:
        raise ModelFileError(f"{path}: the .keras archive is damaged ({reason})") from None
