"""Sampling text from a `LanguageModel`, one compiled step at a time with the recurrent state carried.

The prime is read once; every new token then costs one step of the network (never a re-run of the prefix).
Tokens are chosen by `textmodels.sampling.sample_next` (temperature 0 = greedy, top-k, top-p); ``<pad>``,
``<unk>`` and ``<bos>`` are banned, so they are never emitted (and ``<eos>`` for character stream models, whose
training text has none: they stop at ``max_tokens``).

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

import numpy as np
from keras import ops

from textmodels.language_model.language_model import LanguageModel
from textmodels.language_model.training import compile_step
from textmodels.sampling import sample_next, validate_sampling_args
from textmodels.text import BOS, EOS, PAD, RESERVED, UNK


class UnknownPrimeError(ValueError):
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
    """Samples from ``model`` (made stateless if it was trained statefully).

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
        vocabulary = self.model.encoder.vocabulary
        self.vocabulary = vocabulary
        self.banned_ids = [vocabulary[PAD], vocabulary[UNK], vocabulary[BOS]]
        if self.model.regime == "stream" and self.model.level == "char":
            # A character stream has no <eos> (newlines are characters): such text ends at max_tokens.
            self.banned_ids.append(vocabulary[EOS])
        self._step = compile_step(self._run)

    def _run(self, token_ids, states):
        logits, new_states = self.model(token_ids, initial_state=states, return_state=True, training=False)
        return logits[:, -1, :], new_states

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
        tokens = model.encoder.tokenizer.tokenize(prime)
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
    ) -> Generation:
        """Continues ``prime`` by up to ``max_tokens`` tokens, stopping early at ``<eos>`` (not included).

        The same ``seed`` gives the same text. Invalid sampling arguments raise `SamplingError` before any work.
        """
        validate_sampling_args(temperature, top_k, top_p)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        rng = np.random.default_rng(seed)
        context = np.asarray([self.start_ids(prime)], dtype="int32")
        logits, states = self._step(context, self.model.initial_state(1))
        eos = self.vocabulary[EOS]
        generated, stopped = [], False
        for _ in range(max_tokens):
            token = int(sample_next(ops.convert_to_numpy(logits), temperature=temperature, top_k=top_k,
                                    top_p=top_p, banned_ids=self.banned_ids, rng=rng)[0])
            if token == eos and stop_at_eos:
                stopped = True
                break
            generated.append(token)
            if len(generated) == max_tokens:
                break
            logits, states = self._step(np.asarray([[token]], dtype="int32"), states)
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
        detokenize = self.model.encoder.tokenizer.detokenize
        return "\n".join(detokenize(tokens) for tokens in lines)
