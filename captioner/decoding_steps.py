"""The caption decoder's compiled decoding steps: what `captioner.model.CaptionModel.generate` and self-critical
training hand to `textmodels.decoding`'s searches, one compiled decoder step per token with the recurrent state
carried between tokens (and its beam reordering deferred into the next step).

Example:
    >>> import numpy as np
    >>> from textmodels.decoding import beam_search
    >>> decoder = CaptionDecoder(8, feature_dim=3, embedding_dim=4, units=5, cell="lstm", inject="merge")
    >>> start, step = compile_decoding_steps(decoder)
    >>> hypotheses = beam_search(step, start(np.zeros((1, 3), "float32")), 1, beam_size=2, bos_id=2, eos_id=3,
    ...                          max_length=4, banned_ids=NEVER_EMITTED)
    >>> len(hypotheses[0]) >= 1
    True
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from captioner.decoder import CaptionDecoder
from textmodels.decoding import compile_step
from textmodels.text import Vocabulary

# Tokens never worth emitting inside a caption.
NEVER_EMITTED = (Vocabulary.pad_id, Vocabulary.unk_id, Vocabulary.bos_id)


def compile_decoding_steps(decoder: CaptionDecoder):
    """``(initial_state_fn, step_fn)`` for `textmodels.decoding`'s searches: ``decoder``'s start and step
    computations as compiled functions, traced here once.

    ``initial_state_fn(features)`` returns the search state of ``N`` images; ``step_fn(tokens, state)`` returns
    ``(log_probs (N, V), new_state)`` and runs a single decoder step.
    """
    num_states = decoder.layers * decoder.rnn.states_per_layer

    def start_graph(features):
        return decoder.initial_decode_state(features)

    def first_graph(tokens, states, rows, context):
        logits, new_states = decoder.decode_step(tokens, _take_rows(states, rows), context, first=True)
        return ops.log_softmax(logits, axis=-1), new_states

    def next_graph(tokens, states, rows, context):
        logits, new_states = decoder.decode_step(tokens, _take_rows(states, rows), context, first=False)
        return ops.log_softmax(logits, axis=-1), new_states

    state_spec = [keras.InputSpec(shape=(None, decoder.units), dtype="float32")] * num_states
    rows_spec = keras.InputSpec(shape=(None,), dtype="int32")
    context_spec = keras.InputSpec(shape=(None, decoder.context_dim), dtype="float32")
    step_signature = [keras.InputSpec(shape=(None,), dtype="int32"), state_spec, rows_spec, context_spec]
    feature_spec = [keras.InputSpec(shape=(None, decoder.feature_dim), dtype="float32")]
    start_graph = compile_step(start_graph, feature_spec, weights=decoder)
    next_graph = compile_step(next_graph, step_signature, weights=decoder)
    # Without a mode that needs it, the first step is an ordinary step (one graph fewer to trace and run).
    if decoder.inject == "first_step":
        first_graph = compile_step(first_graph, step_signature, weights=decoder)
    else:
        first_graph = next_graph

    def initial_state_fn(features):
        states, context = start_graph(np.asarray(features, np.float32))
        state = {"rnn": _DeferredRows([ops.convert_to_numpy(s) for s in states]),
                 "context": ops.convert_to_numpy(context)}
        if decoder.inject == "first_step":
            # Present only until the <bos> step has consumed it: the injection reaches step 0 alone.
            state["inject_next"] = np.ones(len(state["context"]), np.int8)
        return state

    def step_fn(tokens, state):
        function = first_graph if "inject_next" in state else next_graph
        rnn = state["rnn"]
        log_probs, states = function(np.asarray(tokens, np.int32), rnn.arrays, rnn.rows_for(len(tokens)),
                                     state["context"])
        # The states stay as the compiled step returns them, for the next step to take back unconverted.
        return ops.convert_to_numpy(log_probs), {"rnn": _DeferredRows(list(states)), "context": state["context"]}

    return initial_state_fn, step_fn


def _take_rows(states, rows):
    return [ops.take(state, rows, axis=0) for state in states]


class _DeferredRows:
    """Recurrent states whose beam reordering is deferred to the next compiled step: `reorder_rows` (called by
    `textmodels.decoding.reorder_state` between steps) only records which rows to take, and the step gathers them
    on its device inside the same call, instead of one eager gather per state tensor per token."""

    def __init__(self, arrays: list, rows: np.ndarray | None = None):
        self.arrays = arrays
        self.rows = rows

    def reorder_rows(self, indices) -> _DeferredRows:
        indices = np.asarray(indices, np.int64)
        return _DeferredRows(self.arrays, indices if self.rows is None else self.rows[indices])

    def rows_for(self, count: int) -> np.ndarray:
        """The rows the next step reads, ``count`` of them (all, in order, when nothing was reordered)."""
        return np.arange(count, dtype=np.int32) if self.rows is None else self.rows.astype(np.int32)
