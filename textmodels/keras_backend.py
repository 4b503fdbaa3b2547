"""Which Keras backend runs the models: ``KERAS_BACKEND`` checked before Keras is imported.

Keras fixes its backend when it is first imported, from ``KERAS_BACKEND`` (or ``~/.keras/keras.json``), and an
unknown name or a backend whose package is missing surfaces as a traceback from deep inside that import. The
commands call `check_keras_backend` first, so a user sees one line naming the value and the choices instead.

Example:
    >>> check_keras_backend({"KERAS_BACKEND": "jax"})
    'jax'
    >>> try:
    ...     check_keras_backend({"KERAS_BACKEND": "mxnet"})
    ... except ConfigurationError as error:
    ...     print(error)
    KERAS_BACKEND='mxnet' is not a backend this project runs on; use tensorflow (the default), jax or torch.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping

from textmodels.errors import ConfigurationError

# Keras also has "numpy" and "openvino" backends; they run inference only, and every command here may train.
SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")


def check_keras_backend(environ: Mapping[str, str] = os.environ) -> str:
    """The backend ``KERAS_BACKEND`` names (``tensorflow`` when unset); `ConfigurationError` for a name outside
    `SUPPORTED_BACKENDS` or a backend whose package is not installed.

    Example:
        >>> check_keras_backend({})
        'tensorflow'
    """
    backend = environ.get("KERAS_BACKEND")
    if not backend:  # Keras ignores an empty value too
        return "tensorflow"  # or what ~/.keras/keras.json says, which Keras itself checks
    if backend not in SUPPORTED_BACKENDS:  # Keras compares the name as given: "JAX" is unknown to it
        raise ConfigurationError(
            f"KERAS_BACKEND={backend!r} is not a backend this project runs on; use tensorflow (the default), jax "
            "or torch."
        )
    if importlib.util.find_spec(backend) is None:
        raise ConfigurationError(
            f"KERAS_BACKEND={backend!r} but the {backend} package is not installed (pip install {backend}, or "
            "unset KERAS_BACKEND for tensorflow)."
        )
    return backend
