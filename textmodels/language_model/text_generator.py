"""Generating text from a `LanguageModel`, one compiled step at a time with the recurrent state carried.

The prime is read once; every new token then costs one step of the network (never a re-run of the prefix).
Tokens are chosen by the searches of `textmodels.decoding`, the same ones the captioner decodes with: sampling
(temperature 0 = greedy, top-k, top-p) or beam search (``beam_size``). ``<pad>``, ``<unk>`` and ``<bos>`` are
banned, so they are never emitted (and ``<eos>`` for character stream models, whose training text has none:
they stop at ``max_tokens``).

Where generation starts: a sentence model reads ``<bos>``; a word stream model reads ``<eos>`` (the end of a
previous sentence); a character stream model reads a newline (when its vocabulary has one). The prime follows.
A prime in which no token is in the vocabulary raises `UnknownPrimeError`: it carries no information, and
silently generating from nothing would hide the problem. Unknown tokens in an otherwise known prime are read
as ``<unk>``.

Example:
    >>> from textmodels.language_model.encoding import fit_lm_encoder
    >>> from textmodels.language_model.language_model import LanguageModel
    >>> model = LanguageModel(fit_lm_encoder("a b c\\n"), 8, 8, layers=1)
    >>> generator = TextGenerator(model)
    >>> out = generator.generate(prime="a", max_tokens=5, temperature=0.0)
    >>> len(out.token_ids) <= 5
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from textmodels.decoding import (
    DEFAULT_LENGTH_PENALTY,
    beam_search,
    compile_step,
    sample_search,
    validate_sampling_args,
)
from textmodels.errors import ConfigurationError, TextmodelsError
from textmodels.language_model.language_model import LanguageModel
from textmodels.text import BOS, EOS, PAD, RESERVED, UNK


class UnknownPrimeError(TextmodelsError, ValueError):
    """The priming text has no token in the model's vocabulary.

    Example:
        >>> isinstance(UnknownPrimeError("no known word"), ValueError)
        True
    """


@dataclass(frozen=True)
class Generation:
    """Generated tokens and their text; ``full_text`` is the prime followed by the continuation.

    Example:
        >>> Generation("the cat", "sat down", [7, 9], stopped_at_eos=True).full_text
        'the cat sat down'
    """

    prime: str
    text: str
    token_ids: list[int]
    stopped_at_eos: bool
    char_level: bool = False

    @property
    def full_text(self) -> str:
        if self.char_level or not self.prime or not self.text or self.prime[-1].isspace():
            return self.prime + self.text
        return f"{self.prime} {self.text}"


class TextGenerator:
    """Generates from ``model`` (made stateless if it was trained statefully).

    Example:
        >>> from textmodels.language_model.encoding import fit_lm_encoder
        >>> from textmodels.language_model.language_model import LanguageModel
        >>> generator = TextGenerator(LanguageModel(fit_lm_encoder("ab\\n", level="char"), 4, 4, layers=1))
        >>> a = generator.generate(max_tokens=8, temperature=1.0, seed=3).text
        >>> a == generator.generate(max_tokens=8, temperature=1.0, seed=3).text
        True
    """

    def __init__(self, model: LanguageModel):
        self.model = model.stateless_copy() if model.stateful else model
        if not self.model.built:
            # Before the steps are compiled: a JAX step takes the model's variables as arguments, so every
            # variable must exist (an unbuilt model would create its recurrent weights inside the trace).
            self.model.build((None, None))
        vocabulary = self.model.text_encoder.vocabulary
        self.vocabulary = vocabulary
        self.banned_ids = [vocabulary[PAD], vocabulary[UNK], vocabulary[BOS]]
        if self.model.regime == "stream" and self.model.level == "char":
            # A character stream has no <eos> (newlines are characters): such text ends at max_tokens.
            self.banned_ids.append(vocabulary[EOS])
        block = self.model.block
        state_spec = [keras.InputSpec(shape=(None, block.units), dtype="float32")] * (
            block.layers * block.states_per_layer
        )
        self._read = compile_step(self._read_tokens, weights=self.model)
        self._step = compile_step(self._next_log_probs, [keras.InputSpec(shape=(None,), dtype="int32"), state_spec],
                                  weights=self.model)

    @classmethod
    def load(cls, path: str | Path) -> TextGenerator:
        """A generator for the language model saved at ``path`` (see `LanguageModel.load`)."""
        return cls(LanguageModel.load(path))

    def save(self, path: str | Path) -> None:
        """Writes the language model to one `.keras` file (see `LanguageModel.save`)."""
        self.model.save(path)

    def _read_tokens(self, token_ids, states):
        _, new_states = self.model(token_ids, initial_state=states, return_state=True, training=False)
        return new_states

    def _next_log_probs(self, tokens, states):
        logits, new_states = self.model.step(tokens, states)
        return ops.log_softmax(logits, axis=-1), new_states

    def step(self, tokens: np.ndarray, states: list) -> tuple[np.ndarray, list]:
        """One compiled step for (N,) ``tokens``: ``(log_probs (N, V) as a NumPy array, new states)`` (the step
        function of `textmodels.decoding`'s searches). The states stay as the compiled step returns them
        (see `textmodels.decoding.compile_step`), for the next step to take back without a conversion.

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> generator = TextGenerator(LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1))
            >>> log_probs, states = generator.step(np.array([4, 5]), generator.model.initial_state(2))
            >>> log_probs.shape, bool(np.allclose(np.exp(log_probs).sum(axis=1), 1.0, atol=1e-5))
            ((2, 6), True)
        """
        log_probs, new_states = self._step(np.asarray(tokens, dtype="int32"), states)
        return ops.convert_to_numpy(log_probs), list(new_states)

    def prime_state(self, prime: str = "") -> tuple[int, list]:
        """``(first token, state)``: the last of `start_ids`, to feed at the first step, and the recurrent state
        after reading every start id before it.

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> generator = TextGenerator(LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1))
            >>> token, states = generator.prime_state("a b")
            >>> token == generator.vocabulary["b"], [state.shape for state in states]
            (True, [(1, 4), (1, 4)])
        """
        ids = self.start_ids(prime)
        states = self.model.initial_state(1)
        if len(ids) > 1:
            states = self._read(np.asarray([ids[:-1]], dtype="int32"), states)
        return ids[-1], [ops.convert_to_numpy(state) for state in states]

    def start_ids(self, prime: str = "") -> list[int]:
        """The ids read before sampling: the start token (see the module notes), then the prime's tokens.

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> TextGenerator(LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1)).start_ids("b x")
            [3, 5, 1]
        """
        model, vocabulary = self.model, self.vocabulary
        if model.regime == "sentences":
            start = [vocabulary[BOS]]
        elif model.level == "word":
            start = [vocabulary[EOS]]
        else:
            start = [vocabulary["\n"]] if "\n" in vocabulary else []
        tokens = model.text_encoder.tokenizer.tokenize(prime)
        if not tokens:
            # Nothing to read but the start token; a character vocabulary without newlines starts from its
            # most frequent token (id 4, the first after the reserved ids).
            return start or [len(RESERVED)]
        if not any(token in vocabulary for token in tokens):
            shown = ", ".join(repr(token) for token in tokens[:5]) + (" ..." if len(tokens) > 5 else "")
            raise UnknownPrimeError(
                f"The prime has no token in the model's vocabulary ({shown}); give a prime with at least one "
                f"known {'character' if model.level == 'char' else 'word'}, or no prime."
            )
        return start + vocabulary.encode(tokens)

    def generate(
        self,
        prime: str = "",
        max_tokens: int = 100,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stop_at_eos: bool = True,
        beam_size: int | None = None,
        length_penalty: float = DEFAULT_LENGTH_PENALTY,
    ) -> Generation:
        """Continues ``prime`` by up to ``max_tokens`` tokens, stopping early at ``<eos>`` (not included).

        Samples (``temperature``, ``top_k``, ``top_p``; the same ``seed`` gives the same text), or, with
        ``beam_size``, searches for the likeliest continuation with a beam that wide (scored as
        `textmodels.decoding.beam_search` does, with ``length_penalty``; the sampling arguments then do not
        apply). Invalid arguments raise `SamplingError` / `SearchError` before any work.

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> generator = TextGenerator(LanguageModel(fit_lm_encoder("a b c\\n"), 8, 8, layers=1))
            >>> generator.generate("a", max_tokens=4, beam_size=1) == generator.generate("a", max_tokens=4,
            ...                                                                           temperature=0.0)
            True
        """
        validate_sampling_args(temperature, top_k, top_p)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ConfigurationError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        first, states = self.prime_state(prime)
        options = dict(bos_id=first, eos_id=self.vocabulary[EOS] if stop_at_eos else None, max_length=max_tokens,
                       banned_ids=self.banned_ids)
        if beam_size is None:
            generated = sample_search(self.step, states, 1, temperature=temperature, top_k=top_k, top_p=top_p,
                                      rng=np.random.default_rng(seed), **options)[0]
        else:
            generated = beam_search(self.step, states, 1, beam_size=beam_size, length_penalty=length_penalty,
                                    **options)[0][0].tokens
        # A search ends a row before max_length only at <eos>.
        stopped = stop_at_eos and len(generated) < max_tokens
        return Generation(prime, self.decode(generated), generated, stopped, char_level=self.model.level == "char")

    def decode(self, token_ids: list[int]) -> str:
        """Text of generated ids; a word stream model's ``<eos>`` becomes a line break.

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> TextGenerator(LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1)).decode([4, 3, 5])
            'a\\nb'
        """
        eos = self.vocabulary[EOS]
        lines, current = [], []
        for token in token_ids:
            if token == eos:
                lines.append(current)
                current = []
            else:
                current.append(self.vocabulary.token(token))
        lines.append(current)
        detokenize = self.model.text_encoder.tokenizer.detokenize
        return "\n".join(detokenize(tokens) for tokens in lines)
