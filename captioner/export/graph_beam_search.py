"""Beam search as TensorFlow graph operations (``tf.while_loop``), for a SavedModel that needs no Python.

`graph_beam_search` is the same algorithm as `captioner.model.CaptionModel.generate` with beam search (the
NumPy loop of the captioner's search module), step for step: log-probabilities summed in float64, the 2K best
candidates ranked by a stable sort (ties go to the lower beam and token index, which is what ``tf.math.top_k``
does), an ``<eos>`` among the K best leaving the beam for a finished list, the same stopping rule and the
same length-normalised score ``log_prob / steps ** length_penalty``, the same ``min_length`` (no ``<eos>`` before
that many tokens) and ``block_ngram`` (no n-gram twice in a hypothesis). Lengths and scores of finished
hypotheses go into fixed-size buffers (at most 2K per image: a row stops once it holds K), so every tensor has
a static shape but the batch size.

Example:
    >>> import numpy as np
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle", "a blue square"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
    >>> features = model.encode_images(np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)))
    >>> vocabulary = model.text_encoder.vocabulary
    >>> result = graph_beam_search(model.decoder, features, bos_id=vocabulary.bos_id, eos_id=vocabulary.eos_id,
    ...     banned_ids=(vocabulary.pad_id, vocabulary.unk_id, vocabulary.bos_id), beam_size=3, num_return=3,
    ...     max_length=6, eos_at_max_length=True)
    >>> expected = model.generate(features, beam_size=3, num_return=3, max_length=5)  # words, then <eos>: 6 steps
    >>> lengths = result.lengths.numpy()
    >>> [[result.tokens[i, r, :lengths[i, r]].numpy().tolist() for r in range(3)] for i in range(2)] == [
    ...     [hyp.tokens for hyp in hyps] for hyps in expected]
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import tensorflow as tf

from textmodels.decoding import DEFAULT_LENGTH_PENALTY


class GraphHypotheses(NamedTuple):
    """``num_return`` hypotheses per image, best first: token ids ``(B, R, max_length)`` (the first ``lengths``
    of each row are the caption, without ``<bos>``/``<eos>``), ``lengths (B, R)`` int32, ``log_probs`` and
    ``scores`` ``(B, R)`` float64 (``-inf`` where an image has fewer than R hypotheses)."""

    tokens: tf.Tensor
    lengths: tf.Tensor
    log_probs: tf.Tensor
    scores: tf.Tensor


def graph_beam_search(
    decoder,
    features,
    *,
    bos_id: int,
    eos_id: int,
    banned_ids: Iterable[int],
    max_length: int,
    beam_size: int = 3,
    num_return: int = 1,
    length_penalty: float = DEFAULT_LENGTH_PENALTY,
    min_length: int = 0,
    block_ngram: int = 0,
    eos_at_max_length: bool = False,
) -> GraphHypotheses:
    """Beam search over a `captioner.decoder.CaptionDecoder` for ``features`` (B, feature_dim), in TF ops.

    ``max_length`` counts decoding steps, the final ``<eos>`` included (``CaptionModel.generate``'s default
    is the longest caption + 1); ``banned_ids`` are never emitted (the captioner bans ``<pad>``, ``<unk>`` and
    ``<bos>``), ``<eos>`` not before ``min_length`` tokens, and with ``block_ngram=n`` > 0 no n-gram twice in a
    hypothesis; ``eos_at_max_length`` makes the last step emit ``<eos>`` (at most ``max_length - 1`` tokens).
    Runs eagerly or inside a ``tf.function``.
    """
    if not 1 <= num_return <= beam_size:
        raise ValueError(f"num_return must be in [1, beam_size={beam_size}], got {num_return}.")
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}.")
    if not 0 <= min_length < max_length:
        raise ValueError(f"min_length must be in [0, max_length={max_length}), got {min_length}.")
    if block_ngram < 0:
        raise ValueError(f"block_ngram must be >= 0 (0 = off), got {block_ngram}.")
    K, L = int(beam_size), int(max_length)
    capacity = 2 * K
    V = int(decoder.vocabulary_size)
    neg_inf = tf.constant(float("-inf"), tf.float64)
    # Python computes the length normalisers, as the NumPy search does, so the scores agree to the last bit.
    divisors = tf.constant([float(steps) ** length_penalty for steps in range(1, L + 1)], tf.float64)
    best_live_scale = 1.0 / L**length_penalty
    banned_mask = tf.constant([token in set(banned_ids) for token in range(V)], tf.bool)
    eos_mask = tf.one_hot(eos_id, V, on_value=True, off_value=False, dtype=tf.bool)

    features = tf.convert_to_tensor(features, tf.float32)
    batch = tf.shape(features)[0]
    states, context = decoder.initial_decode_state(features)
    states = [tf.repeat(state, K, axis=0) for state in states]
    context = tf.repeat(context, K, axis=0)

    def log_probs_of(tokens, states, first):
        logits, new_states = decoder.decode_step(tokens, states, context, first=first)
        log_probs = tf.cast(tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1), tf.float64)
        log_probs = tf.where(banned_mask, neg_inf, tf.reshape(log_probs, (batch, K, V)))
        return log_probs, [tf.convert_to_tensor(state) for state in new_states]

    def select(step, log_probs, beam_log_probs, histories, finished, done):
        """One step of the NumPy loop: finished hypotheses recorded, the next K live beams, the done flags."""
        fin_tokens, fin_lengths, fin_log_probs, fin_scores, fin_count = finished
        if min_length:
            log_probs = tf.where((step < min_length) & eos_mask, neg_inf, log_probs)
        if block_ngram:
            log_probs = tf.where(_repeated_ngram_mask(histories, step, block_ngram, V), neg_inf, log_probs)
        if eos_at_max_length:
            log_probs = tf.where((step == L - 1) & ~eos_mask, neg_inf, log_probs)
        candidates = tf.reshape(beam_log_probs[:, :, None] + log_probs, (batch, K * V))
        # 2K candidates always leave K that do not end, however many of the best ones are <eos>.
        top_values, top_indices = tf.math.top_k(candidates, k=min(2 * K, K * V), sorted=True)
        beams, tokens = top_indices // V, top_indices % V
        valid = top_values > neg_inf
        is_eos = tf.equal(tokens, eos_id)
        ranks = tf.range(tf.shape(top_values)[1])
        ends = valid & is_eos & (ranks < K)[None, :]
        live = valid & ~is_eos
        live_position = tf.cumsum(tf.cast(live, tf.int32), axis=1, exclusive=True)
        kept = live & (live_position < K)

        # Finished hypotheses, appended in rank order after those the row already has.
        end_slots, (end_beams, end_values) = _slots(ends, fin_count, beams, top_values)
        rows = end_slots[:, 0]
        fin_tokens = tf.tensor_scatter_nd_update(fin_tokens, end_slots,
                                                 tf.gather_nd(histories, tf.stack([rows, end_beams], axis=1)))
        fin_lengths = tf.tensor_scatter_nd_update(fin_lengths, end_slots, tf.fill(tf.shape(rows), step))
        fin_log_probs = tf.tensor_scatter_nd_update(fin_log_probs, end_slots, end_values)
        fin_scores = tf.tensor_scatter_nd_update(fin_scores, end_slots, end_values / divisors[step])
        fin_count = fin_count + tf.reduce_sum(tf.cast(ends, tf.int32), axis=1)

        # The next beams: the first K live candidates; unfilled beams stay dead (-inf, <eos>, source 0).
        beam_slots, (kept_beams, kept_tokens, kept_values) = _slots(kept, tf.zeros_like(fin_count), beams, tokens,
                                                                    top_values)
        shape = tf.stack([batch, K])
        source_beams = tf.tensor_scatter_nd_update(tf.zeros(shape, tf.int32), beam_slots, kept_beams)
        next_tokens = tf.tensor_scatter_nd_update(tf.fill(shape, eos_id), beam_slots, kept_tokens)
        next_log_probs = tf.tensor_scatter_nd_update(tf.fill(shape, neg_inf), beam_slots, kept_values)

        # A row is done once it holds K finished hypotheses, or num_return of them that no live beam can beat:
        # log-probabilities only fall as a beam grows, so its best reachable score is its log-prob normalised
        # at max_length.
        kth_best = tf.math.top_k(fin_scores, k=num_return, sorted=True).values[:, -1]
        best_live = tf.reduce_max(next_log_probs, axis=1)
        cannot_beat = (best_live == neg_inf) | (tf.maximum(best_live, best_live * best_live_scale) <= kth_best)
        done = done | (fin_count >= K) | ((fin_count >= num_return) & cannot_beat)
        next_log_probs = tf.where(done[:, None], neg_inf, next_log_probs)
        histories = tf.gather(histories, source_beams, batch_dims=1)
        histories = tf.where(tf.equal(tf.range(L), step)[None, None, :], next_tokens[:, :, None], histories)
        finished = (fin_tokens, fin_lengths, fin_log_probs, fin_scores, fin_count)
        return next_tokens, next_log_probs, source_beams, histories, finished, done

    def reorder(states, source_beams):
        flat_sources = tf.reshape(tf.range(batch)[:, None] * K + source_beams, (-1,))
        return [tf.gather(state, flat_sources) for state in states]

    histories = tf.zeros((batch, K, L), tf.int32)
    beam_log_probs = tf.where(tf.range(K)[None, :] == 0, tf.zeros((batch, K), tf.float64), neg_inf)
    finished = (tf.zeros((batch, capacity, L), tf.int32), tf.zeros((batch, capacity), tf.int32),
                tf.fill((batch, capacity), neg_inf), tf.fill((batch, capacity), neg_inf), tf.zeros((batch,), tf.int32))
    done = tf.zeros((batch,), tf.bool)
    tokens = tf.fill((batch * K,), bos_id)

    # Step 0 reads <bos> (and, for first_step injection, the image); later steps run in the loop.
    log_probs, states = log_probs_of(tokens, states, first=True)
    next_tokens, beam_log_probs, source_beams, histories, finished, done = select(
        0, log_probs, beam_log_probs, histories, finished, done)

    def body(step, next_tokens, beam_log_probs, source_beams, histories, finished, done, states):
        states = reorder(states, source_beams)
        log_probs, states = log_probs_of(tf.reshape(next_tokens, (-1,)), states, first=False)
        next_tokens, beam_log_probs, source_beams, histories, finished, done = select(
            step, log_probs, beam_log_probs, histories, finished, done)
        return step + 1, next_tokens, beam_log_probs, source_beams, histories, finished, done, states

    def loop_condition(step, next_tokens, beam_log_probs, source_beams, histories, finished, done, states):
        return (step < L) & ~tf.reduce_all(done)

    last_step, _, beam_log_probs, _, histories, finished, done, _ = tf.while_loop(
        loop_condition, body,
        (tf.constant(1), next_tokens, beam_log_probs, source_beams, histories, finished, done, states),
        shape_invariants=(
            tf.TensorShape([]), tf.TensorShape([None, K]), tf.TensorShape([None, K]), tf.TensorShape([None, K]),
            tf.TensorShape([None, K, L]),
            (tf.TensorShape([None, capacity, L]), tf.TensorShape([None, capacity]), tf.TensorShape([None, capacity]),
             tf.TensorShape([None, capacity]), tf.TensorShape([None])),
            tf.TensorShape([None]), [tf.TensorShape([None, state.shape[-1]]) for state in states],
        ),
    )
    fin_tokens, fin_lengths, fin_log_probs, fin_scores, fin_count = finished

    # Rows still searching at max_length: their live beams count as hypotheses of max_length tokens.
    live = ~done[:, None] & (beam_log_probs > neg_inf)
    slots, (live_values, live_histories) = _slots(live, fin_count, beam_log_probs, histories)
    fin_tokens = tf.tensor_scatter_nd_update(fin_tokens, slots, live_histories)
    fin_lengths = tf.tensor_scatter_nd_update(fin_lengths, slots, tf.fill(tf.shape(live_values), L))
    fin_log_probs = tf.tensor_scatter_nd_update(fin_log_probs, slots, live_values)
    # Indexed by the loop's step (L whenever a row is still live here), not a constant: a division by a
    # constant may be rewritten as a multiplication by its reciprocal, one rounding off the NumPy score.
    fin_scores = tf.tensor_scatter_nd_update(fin_scores, slots, live_values / divisors[last_step - 1])

    # Best first; equal scores keep the order they were found in, like Python's stable sort.
    scores, order = tf.math.top_k(fin_scores, k=num_return, sorted=True)
    return GraphHypotheses(
        tokens=tf.gather(fin_tokens, order, batch_dims=1),
        lengths=tf.gather(fin_lengths, order, batch_dims=1),
        log_probs=tf.gather(fin_log_probs, order, batch_dims=1),
        scores=scores,
    )


def _repeated_ngram_mask(histories, length, n: int, vocabulary_size: int):
    """``(B, K, V)`` True for each token that would complete an n-gram already in the hypothesis: the NumPy search's
    blocking, for ``histories`` (B, K, L) whose first ``length`` tokens are written."""
    L = histories.shape[-1]
    if n > L:
        return tf.zeros(tf.concat([tf.shape(histories)[:2], [vocabulary_size]], 0), tf.bool)
    windows = L - n + 1
    # An n-gram starting at j is complete in the history when j + n - 1 < length; it matches the hypothesis' last
    # n - 1 tokens when each of its first n - 1 tokens equals the one at length - n + 1 + i.
    starts = tf.range(windows)
    matches = (starts + n - 1 < length)[None, None, :]
    for offset in range(n - 1):
        last = tf.gather(histories, tf.maximum(length - n + 1 + offset, 0), axis=2)[:, :, None]
        matches &= tf.equal(histories[:, :, offset : offset + windows], last)
    completing = histories[:, :, n - 1 : n - 1 + windows]
    hits = tf.one_hot(completing, vocabulary_size, on_value=True, off_value=False, dtype=tf.bool)
    return tf.reduce_any(hits & matches[..., None], axis=2)


def _slots(mask, start, *sources):
    """For the True entries of ``mask`` (B, N), in row-major order: ``(row, start[row] + how many True entries
    precede it in its row)`` int32 pairs, and each of ``sources`` (B, N, ...) gathered there."""
    where = tf.cast(tf.where(mask), tf.int32)
    positions = start[:, None] + tf.cumsum(tf.cast(mask, tf.int32), axis=1, exclusive=True)
    slots = tf.stack([where[:, 0], tf.gather_nd(positions, where)], axis=1)
    return slots, tuple(tf.gather_nd(source, where) for source in sources)
