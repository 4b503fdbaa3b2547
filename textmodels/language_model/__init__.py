"""RNN language models: `LanguageModel` (the Keras network, saved with its vocabulary in one `.keras` file),
training on streams or sentences (`train_language_model`), exact perplexity (`evaluate_language_model`) and
generation (`TextGenerator`: greedy, sampling or beam search, one compiled step per token).

Example:
    >>> from textmodels.language_model import LanguageModel, fit_lm_encoder
    >>> LanguageModel(fit_lm_encoder("a b\\n"), embedding_dim=4, units=4, layers=1).vocabulary_size
    6
"""

from textmodels.language_model.encoding import encode_sentences, encode_stream, fit_lm_encoder
from textmodels.language_model.language_model import LanguageModel
from textmodels.language_model.text_generator import Generation, TextGenerator, UnknownPrimeError
from textmodels.language_model.training import (
    Score,
    TrainedLanguageModel,
    evaluate_language_model,
    train_language_model,
)

__all__ = [
    "Generation", "LanguageModel", "Score", "TextGenerator", "TrainedLanguageModel", "UnknownPrimeError",
    "encode_sentences", "encode_stream", "evaluate_language_model", "fit_lm_encoder", "train_language_model",
]
