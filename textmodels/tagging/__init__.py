"""Sequence tagging (e.g. part of speech): `SequenceTagger` (tagged sentences in, a tagger out; fit, evaluate,
tag, save, load; its defaults in `TAGGER_DEFAULTS`), the Keras network `RecurrentTagger` and its per-token inputs,
`TokenFeatures`.

The names are imported on first use, so the Keras-free `textmodels.tagging.config` (read by the command line's
``--help``) does not load TensorFlow.

Example:
    >>> from textmodels.tagging import TokenFeatures
    >>> TokenFeatures.fit([["The", "dog"]]).encode([["the", "cat"]])[0, :, 0].tolist()
    [5, 1]
"""

import importlib

_MODULES = {
    "RecurrentTagger": "recurrent_tagger", "SequenceTagger": "sequence_tagger", "TokenFeatures": "token_features",
    "TaggerConfig": "config", "TAGGER_DEFAULTS": "config",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
