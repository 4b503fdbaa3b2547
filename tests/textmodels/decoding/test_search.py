"""Greedy, beam and sampling search against hand-made Markov tables whose best sequences are known."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from textmodels.decoding import Hypothesis, SearchError, beam_search, greedy_search, reorder_state, sample_search

pytestmark = pytest.mark.all_backends

EOS, BOS = 0, 4
VOCAB = 7


def _table(transitions: dict[int, dict[int, float]], vocab: int = VOCAB, floor: float = 1e-4) -> np.ndarray:
    """Log-probabilities of the next token given the last one; unlisted tokens share a tiny floor."""
    probs = np.full((vocab, vocab), floor)
    for source, targets in transitions.items():
        for target, prob in targets.items():
            probs[source, target] = prob
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def _markov_step(tables: np.ndarray):
    """A step function over a stack of tables; the state holds each row's table index."""

    def step_fn(tokens, state):
        (table_ids,) = state
        assert tokens.shape == table_ids.shape
        return tables[table_ids, tokens], state

    return step_fn


def _single(table: np.ndarray):
    return _markov_step(table[None]), (np.zeros(1, dtype=np.int64),)


def _path_log_prob(table: np.ndarray, tokens: list[int], ended: bool) -> float:
    path = [BOS, *tokens] + ([EOS] if ended else [])
    return float(sum(table[a, b] for a, b in zip(path[:-1], path[1:])))


# From <bos>, "1" (0.5) beats "2" (0.45), but "1" spreads its mass while "2" ends almost surely.
TRAP = _table({BOS: {1: 0.5, 2: 0.45, EOS: 0.05}, 1: {3: 0.3, 5: 0.3, 6: 0.3, EOS: 0.1},
               2: {EOS: 0.98, 3: 0.02}, 3: {EOS: 0.9, 1: 0.1}, 5: {EOS: 0.9, 1: 0.1}, 6: {EOS: 0.9, 1: 0.1}})


def test_greedy_follows_the_most_likely_token():
    step_fn, state = _single(TRAP)
    assert greedy_search(step_fn, state, 1, BOS, EOS, max_length=10) == [[1, 3]]


def test_beam_finds_the_sequence_greedy_misses_with_exact_log_prob():
    step_fn, state = _single(TRAP)
    greedy = greedy_search(step_fn, state, 1, BOS, EOS, max_length=10)[0]
    best = beam_search(step_fn, state, 1, BOS, EOS, max_length=10, beam_size=2, length_penalty=0.0)[0][0]
    assert best.tokens == [2]
    assert best.log_prob == pytest.approx(_path_log_prob(TRAP, [2], ended=True), abs=1e-12)
    assert best.log_prob > _path_log_prob(TRAP, greedy, ended=True)


@pytest.mark.parametrize("length_penalty", [0.0, 0.7, 1.0])
def test_every_hypothesis_has_its_exact_log_prob_and_score(length_penalty):
    rng = np.random.default_rng(0)
    table = np.log(rng.dirichlet(np.full(VOCAB, 0.5), size=VOCAB))
    step_fn, state = _single(table)
    max_length = 6
    hyps = beam_search(step_fn, state, 1, BOS, EOS, max_length, beam_size=4,
                       length_penalty=length_penalty, num_return=4)[0]
    assert len(hyps) == 4
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    for hyp in hyps:
        assert EOS not in hyp.tokens and len(hyp.tokens) <= max_length
        # max_length steps leave room for at most max_length - 1 tokens before an <eos>.
        ended = len(hyp.tokens) < max_length
        assert hyp.log_prob == pytest.approx(_path_log_prob(table, hyp.tokens, ended=ended), abs=1e-9)
        steps = len(hyp.tokens) + 1 if ended else max_length
        assert hyp.score == pytest.approx(hyp.log_prob / steps**length_penalty, abs=1e-9)


def test_length_normalisation_prefers_the_longer_confident_sequence():
    table = _table({BOS: {1: 0.6, 2: 0.4}, 1: {EOS: 0.9, 3: 0.1}, 2: {3: 0.99}, 3: {5: 0.99},
                    5: {6: 0.99}, 6: {EOS: 0.99}})
    step_fn, state = _single(table)
    raw = beam_search(step_fn, state, 1, BOS, EOS, 10, beam_size=2, length_penalty=0.0)[0][0]
    normalised = beam_search(step_fn, state, 1, BOS, EOS, 10, beam_size=2, length_penalty=1.0)[0][0]
    assert raw.tokens == [1]
    assert normalised.tokens == [2, 3, 5, 6]
    assert raw.log_prob > normalised.log_prob
    assert normalised.score > raw.log_prob / 2


def test_unfinished_hypotheses_are_returned_at_max_length():
    # <eos> only has the floor probability, so it never ranks among the two best candidates after step 0.
    table = _table({BOS: {1: 1.0}, 1: {1: 0.6, 2: 0.4}, 2: {1: 0.6, 2: 0.4}}, floor=1e-12)
    step_fn, state = _single(table)
    best = beam_search(step_fn, state, 1, BOS, EOS, 5, beam_size=2, length_penalty=1.0)[0][0]
    assert best.tokens == [1] * 5
    assert best.log_prob == pytest.approx(_path_log_prob(table, best.tokens, ended=False))
    assert best.score == pytest.approx(best.log_prob / 5)


def _repeated_ngrams(tokens: list[int], n: int) -> bool:
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return len(grams) != len(set(grams))


@pytest.mark.parametrize("beam_size", [1, 3])
def test_ngram_blocking_prevents_a_repeat(beam_size):
    # A loop 1 -> 2 -> 1 is near-certain and <eos> nearly impossible, so unblocked search repeats "1 2".
    table = _table({BOS: {1: 0.9, 2: 0.05, 3: 0.05}, 1: {2: 0.9, 3: 0.1}, 2: {1: 0.9, 3: 0.1},
                    3: {1: 0.6, 2: 0.4}}, floor=1e-12)
    step_fn, state = _single(table)
    free = beam_search(step_fn, state, 1, BOS, EOS, 8, beam_size=beam_size)[0][0]
    blocked = beam_search(step_fn, state, 1, BOS, EOS, 8, beam_size=beam_size, block_ngram=2)[0][0]
    assert free.tokens == [1, 2] * 4
    assert not _repeated_ngrams(blocked.tokens, 2)
    if beam_size == 1:
        # After "1 2 1 3 1" both likely successors of 1 would repeat a bigram; <eos> wins the floor tie.
        assert blocked.tokens == [1, 2, 1, 3, 1]


def test_banned_ids_are_never_emitted():
    step_fn, state = _single(TRAP)
    best = beam_search(step_fn, state, 1, BOS, EOS, 10, beam_size=3, banned_ids=[2, 3])[0][0]
    assert not {2, 3} & set(best.tokens)
    assert 3 not in greedy_search(step_fn, state, 1, BOS, EOS, 10, banned_ids=[3])[0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_size_one_is_exactly_greedy(seed, length_penalty):
    rng = np.random.default_rng(seed)
    tables = np.log(rng.dirichlet(np.full(VOCAB, 0.3), size=(5, VOCAB)))
    state = (np.arange(5),)
    greedy = greedy_search(_markov_step(tables), state, 5, BOS, EOS, 8)
    beams = beam_search(_markov_step(tables), state, 5, BOS, EOS, 8, beam_size=1, length_penalty=length_penalty)
    assert [hyps[0].tokens for hyps in beams] == greedy


def test_batch_items_with_different_tables_get_their_own_answers():
    rng = np.random.default_rng(3)
    random_tables = [np.log(rng.dirichlet(np.full(VOCAB, 0.4), size=VOCAB)) for _ in range(2)]
    tables = np.stack([TRAP, *random_tables, _table({BOS: {5: 0.9}, 5: {EOS: 0.9}})])
    state = (np.arange(len(tables)),)
    batched = beam_search(_markov_step(tables), state, len(tables), BOS, EOS, 7, beam_size=3, num_return=2)
    assert len(batched) == len(tables)
    for index, table in enumerate(tables):
        alone = beam_search(*_single(table), 1, BOS, EOS, 7, beam_size=3, num_return=2)[0]
        assert [h.tokens for h in batched[index]] == [h.tokens for h in alone]
        assert [h.log_prob for h in batched[index]] == pytest.approx([h.log_prob for h in alone])
    assert batched[0][0].tokens == [2] and batched[3][0].tokens == [5]


def test_state_is_reordered_with_its_beam():
    """The state records each row's path; a second-order table makes the scores depend on that record."""
    rng = np.random.default_rng(5)
    second_order = np.log(rng.dirichlet(np.full(VOCAB, 0.4), size=(VOCAB, VOCAB)))
    seen_paths: set[tuple[int, ...]] = set()
    calls = []

    def step_fn(tokens, state):
        paths, image = state
        paths = np.concatenate([paths, tokens[:, None]], axis=1)
        seen_paths.update(tuple(row) for row in paths.tolist())
        calls.append(len(tokens))
        previous = paths[:, -2] if paths.shape[1] > 1 else np.full_like(tokens, BOS)
        return second_order[previous, tokens] + 0.0 * image[:, None], (paths, image)

    batch, beam_size, max_length = 2, 3, 6
    initial = (np.zeros((batch, 0), dtype=np.int64), np.zeros(batch))
    results = beam_search(step_fn, initial, batch, BOS, EOS, max_length, beam_size=beam_size,
                          length_penalty=0.0, num_return=3)
    assert set(calls) == {batch * beam_size} and len(calls) <= max_length
    for hyps in results:
        for hyp in hyps:
            ended = len(hyp.tokens) < max_length
            assert tuple([BOS, *hyp.tokens][: max_length]) in seen_paths
            path = [BOS, BOS, *hyp.tokens] + ([EOS] if ended else [])
            expected = sum(second_order[a, b, c] for a, b, c in zip(path, path[1:], path[2:]))
            assert hyp.log_prob == pytest.approx(expected, abs=1e-9)


def test_reorder_state_handles_nested_structures():
    Pair = namedtuple("Pair", "h c")
    state = {"rnn": [Pair(np.array([0, 1, 2]), np.array([[0], [1], [2]]))], "image": None}
    reordered = reorder_state(state, np.array([2, 2, 0]))
    assert isinstance(reordered["rnn"][0], Pair) and reordered["image"] is None
    assert reordered["rnn"][0].h.tolist() == [2, 2, 0]
    assert reordered["rnn"][0].c.tolist() == [[2], [2], [0]]


def test_sample_search_greedy_reproducible_and_banned():
    rng = np.random.default_rng(2)
    tables = np.log(rng.dirichlet(np.full(VOCAB, 0.5), size=(4, VOCAB)))
    step_fn, state = _markov_step(tables), (np.arange(4),)
    greedy = greedy_search(step_fn, state, 4, BOS, EOS, 8)
    assert sample_search(step_fn, state, 4, BOS, EOS, 8, temperature=0.0) == greedy
    first = sample_search(step_fn, state, 4, BOS, EOS, 8, rng=np.random.default_rng(11), banned_ids=[3])
    again = sample_search(step_fn, state, 4, BOS, EOS, 8, rng=np.random.default_rng(11), banned_ids=[3])
    assert first == again
    assert all(3 not in caption and EOS not in caption and len(caption) <= 8 for caption in first)
    many = [sample_search(step_fn, state, 4, BOS, EOS, 8, rng=np.random.default_rng(seed)) for seed in range(8)]
    assert len({str(captions) for captions in many}) > 1


def test_sample_search_follows_a_certain_path():
    table = _table({BOS: {1: 1.0}, 1: {2: 1.0}, 2: {EOS: 1.0}}, floor=1e-12)
    step_fn, state = _single(table)
    assert sample_search(step_fn, state, 1, BOS, EOS, 9, temperature=1.3, rng=np.random.default_rng(0)) == [[1, 2]]


def test_invalid_arguments_raise_clear_errors():
    step_fn, state = _single(TRAP)
    with pytest.raises(SearchError, match="num_return"):
        beam_search(step_fn, state, 1, BOS, EOS, 5, beam_size=2, num_return=3)
    with pytest.raises(SearchError, match="length_penalty"):
        beam_search(step_fn, state, 1, BOS, EOS, 5, length_penalty=-1.0)
    with pytest.raises(SearchError, match="beam_size"):
        beam_search(step_fn, state, 1, BOS, EOS, 5, beam_size=0)
    with pytest.raises(SearchError, match="max_length"):
        greedy_search(step_fn, state, 1, BOS, EOS, 0)
    with pytest.raises(SearchError, match=r"shape \(2, vocab_size\)"):
        greedy_search(lambda tokens, state: (TRAP[:1], state), None, 2, BOS, EOS, 5)
    with pytest.raises(SearchError, match="outside the vocabulary"):
        greedy_search(step_fn, state, 1, BOS, 99, 5)
    with pytest.raises(ValueError, match="temperature"):
        sample_search(step_fn, state, 1, BOS, EOS, 5, temperature=-1.0)
    with pytest.raises(SearchError, match="rng"):
        sample_search(step_fn, state, 1, BOS, EOS, 5, temperature=1.0)
    assert isinstance(Hypothesis([1], -1.0, -0.5), Hypothesis)


@pytest.mark.parametrize("seed", range(5))
def test_top_candidates_equal_a_stable_sort_with_ties_and_dead_beams(seed):
    from textmodels.decoding.search import _top_candidates

    rng = np.random.default_rng(seed)
    candidates = rng.integers(-6, 0, (4, 300)).astype(np.float64)  # many exact ties
    candidates[0, 100:] = -np.inf  # a row with dead beams
    candidates[1, :] = -np.inf
    candidates[1, [7, 250, 3]] = -1.0  # fewer finite entries than asked for
    for count in (1, 6, 10):
        expected = np.argsort(-candidates, axis=1, kind="stable")[:, :count]
        np.testing.assert_array_equal(_top_candidates(candidates, count), expected)


def test_min_length_keeps_eos_away_until_enough_tokens():
    tables = np.log(np.full((5, 5), 0.01))
    tables[:, EOS] = np.log(0.96)  # <eos> is by far the likeliest everywhere
    step_fn = lambda tokens, state: (tables[tokens], state)  # noqa: E731
    for min_length in (0, 2, 4):
        beams = beam_search(step_fn, None, 1, BOS, EOS, 6, beam_size=2, min_length=min_length)[0]
        assert len(beams[0].tokens) == min_length
        sampled = sample_search(step_fn, None, 1, BOS, EOS, 6, temperature=0.0, min_length=min_length)[0]
        assert len(sampled) == min_length
    with pytest.raises(SearchError, match="min_length"):
        beam_search(step_fn, None, 1, BOS, EOS, 3, min_length=3)


def test_eos_at_max_length_ends_every_hypothesis_within_the_limit():
    tables = np.log(np.full((5, 5), 0.24))
    tables[:, EOS] = np.log(0.04)  # <eos> is the least likely token everywhere
    step_fn = lambda tokens, state: (tables[tokens], state)  # noqa: E731
    free = beam_search(step_fn, None, 1, BOS, EOS, 5, beam_size=2, num_return=2)[0]
    assert [len(hyp.tokens) for hyp in free] == [5, 5]  # never ended: max_length tokens
    ended = beam_search(step_fn, None, 1, BOS, EOS, 5, beam_size=2, num_return=2, eos_at_max_length=True)[0]
    assert [len(hyp.tokens) for hyp in ended] == [4, 4]
    assert ended[0].log_prob == pytest.approx(4 * np.log(0.24) + np.log(0.04))
    assert len(greedy_search(step_fn, None, 1, BOS, EOS, 5, eos_at_max_length=True)[0]) == 4
