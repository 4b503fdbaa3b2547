"""Choosing tokens, for the language models and the captioner alike.

- `sample_next`: the next token from a batch of logits: greedy, temperature, top-k, top-p.
- `greedy_search`, `beam_search`, `sample_search`: whole sequences from any step function
  ``step(tokens, state) -> (log_probs, state)``, batched, the state carried (never a re-run of the prefix).
- `compile_step`: that step compiled for the active backend.
- `DEFAULT_LENGTH_PENALTY`: beam search's one default length normalisation (every model and command uses it).

Example:
    >>> import numpy as np
    >>> from textmodels.decoding import greedy_search, sample_next, validate_sampling_args
    >>> validate_sampling_args(temperature=0.0)
    >>> sample_next(np.array([[0.0, 1.0]]), temperature=0.0).tolist()
    [1]
    >>> table = np.log(np.array([[0.9, 0.1], [0.2, 0.8]]))  # after token 1, token 1 is likelier
    >>> greedy_search(lambda tokens, state: (table[tokens], state), None, 1, bos_id=1, eos_id=0, max_length=3)
    [[1, 1, 1]]
"""

from __future__ import annotations

from textmodels.decoding.compiled_step import compile_step
from textmodels.decoding.samplers import (
    SamplingError,
    ban_tokens,
    log_softmax,
    sample_next,
    validate_sampling_args,
)
from textmodels.decoding.search import (
    DEFAULT_LENGTH_PENALTY,
    Hypothesis,
    SearchError,
    beam_search,
    greedy_search,
    reorder_state,
    sample_search,
)

__all__ = [
    "DEFAULT_LENGTH_PENALTY", "Hypothesis", "SamplingError", "SearchError", "ban_tokens", "beam_search",
    "compile_step", "greedy_search", "log_softmax", "reorder_state", "sample_next", "sample_search",
    "validate_sampling_args",
]
