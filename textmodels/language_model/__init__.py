"""RNN language models: `LanguageModel` (the Keras network, saved with its vocabulary in one `.keras` file),
training on streams or sentences (`train_language_model`, its defaults in `LM_DEFAULTS`), exact perplexity
(`evaluate_language_model`) and generation (`TextGenerator`: greedy, sampling or beam search, one compiled step
per token).

The names are imported on first use, so the Keras-free `textmodels.language_model.config` (read by the command
line's ``--help``) does not load TensorFlow.

Example:
    >>> from textmodels.language_model import LanguageModel, fit_lm_encoder
    >>> LanguageModel(fit_lm_encoder("a b\\n"), embedding_dim=4, units=4, layers=1).vocabulary_size
    6
"""

import importlib

_MODULES = {
    "encode_sentences": "encoding", "encode_stream": "encoding", "fit_lm_encoder": "encoding",
    "LanguageModel": "language_model", "Generation": "text_generator", "TextGenerator": "text_generator",
    "UnknownPrimeError": "text_generator", "Score": "perplexity", "TrainedLanguageModel": "training",
    "evaluate_language_model": "perplexity", "train_language_model": "training", "LanguageModelConfig": "config",
    "LM_DEFAULTS": "config",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
