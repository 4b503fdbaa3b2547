"""Exact perplexity: `evaluate_language_model` scores a whole text, the summed negative log-likelihood of every
token over the number of tokens (`Score`), the same on every backend.

Example:
    >>> from textmodels.language_model.encoding import fit_lm_encoder
    >>> model = LanguageModel(fit_lm_encoder("a b\\n"), embedding_dim=4, units=4, layers=1)
    >>> model.build((None, None))
    >>> score = evaluate_language_model(model, "a b a b\\n")
    >>> score.tokens, score.perplexity > 1
    (4, True)
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from textmodels.data.lm_batches import sentence_pairs
from textmodels.decoding import compile_step
from textmodels.errors import CorpusError
from textmodels.language_model.encoding import encode_sentences, encode_stream
from textmodels.language_model.language_model import LanguageModel

LOG2 = math.log(2.0)


@dataclass(frozen=True)
class Score:
    """The result of scoring a text: total NLL (nats) over the token count, and the derived figures.

    Example:
        >>> score = Score(total_nll=2 * math.log(2), tokens=2, char_level=True)
        >>> round(score.perplexity, 6), round(score.bits_per_char, 6)
        (2.0, 1.0)
    """

    total_nll: float
    tokens: int
    char_level: bool

    @property
    def nats_per_token(self) -> float:
        return self.total_nll / self.tokens

    @property
    def perplexity(self) -> float:
        return math.exp(self.nats_per_token)

    @property
    def bits_per_char(self) -> float | None:
        return self.nats_per_token / LOG2 if self.char_level else None

    def as_dict(self) -> dict:
        """``perplexity``, ``tokens``, ``nats_per_token`` and, for character models, ``bits_per_char``."""
        out = {"perplexity": self.perplexity, "tokens": self.tokens, "nats_per_token": self.nats_per_token}
        if self.char_level:
            out["bits_per_char"] = self.bits_per_char
        return out


_SCORERS: weakref.WeakKeyDictionary[LanguageModel, object] = weakref.WeakKeyDictionary()


def _token_nll_function(model: LanguageModel):
    """The compiled (per-token NLL, new states) function of ``model``, built once per model: retracing per call
    would cost more than scoring a validation text. Padding targets (id 0) score 0. The caller sums in NumPy
    float64, the same on every backend (JAX computes in float32 unless x64 is enabled for the whole process)."""
    if model in _SCORERS:
        return _SCORERS[model]

    def score(token_ids, targets, states):
        logits, new_states = model(token_ids, initial_state=states, return_state=True, training=False)
        nll = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        return nll * ops.cast(ops.not_equal(targets, 0), nll.dtype), new_states

    _SCORERS[model] = compile_step(score, weights=model)
    return _SCORERS[model]


def evaluate_language_model(model: LanguageModel, text: str, window: int = 200) -> Score:
    """The exact score of ``text``: the NLL of every predicted token summed, over the number of tokens.

    A stream model reads ``text`` as one stream with the state carried from window to window (exactly as in
    training; the window length only changes speed): the first token is given, every later one is predicted.
    A sentence model scores each line from ``<bos>`` to ``<eos>`` (``<eos>`` is predicted, ``<bos>`` is not).
    ``perplexity = exp(total NLL / tokens)``; character models also report bits per character. Unknown tokens
    are scored as ``<unk>`` (the PTB convention). See the module example.
    """
    if model.stateful:
        model = model.stateless_copy()
    score = _token_nll_function(model)
    char_level = model.level == "char"
    total, count = 0.0, 0
    if model.regime == "stream":
        ids = encode_stream(text, model.text_encoder)
        if len(ids) < 2:
            raise CorpusError("The text has a single token: there is nothing to predict.")
        states = model.initial_state(1)
        for start in range(0, len(ids) - 1, window):
            chunk = ids[start : start + window + 1]
            nll, states = score(chunk[None, :-1], chunk[None, 1:], states)
            total += float(ops.convert_to_numpy(nll).sum(dtype=np.float64))
            count += len(chunk) - 1
    else:
        inputs, targets = sentence_pairs(encode_sentences(text, model.text_encoder))
        batch = 64
        for start in range(0, len(inputs), batch):
            x, y = inputs[start : start + batch], targets[start : start + batch]
            nll, _ = score(x, y, model.initial_state(len(x)))
            total += float(ops.convert_to_numpy(nll).sum(dtype=np.float64))
            count += int(np.count_nonzero(y))
    return Score(total, count, char_level)
