"""Behaviour of the shared next-token sampler."""

from __future__ import annotations

import numpy as np
import pytest

from textmodels.decoding import SamplingError, log_softmax, sample_next, validate_sampling_args

pytestmark = pytest.mark.all_backends


def _random_logits(batch: int = 8, vocab: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=2.0, size=(batch, vocab))


def test_temperature_zero_is_argmax():
    logits = _random_logits()
    np.testing.assert_array_equal(sample_next(logits, temperature=0.0), np.argmax(logits, axis=1))


def test_same_seed_reproduces_and_other_seed_differs():
    logits = np.zeros((200, 50))
    first = sample_next(logits, rng=np.random.default_rng(7))
    again = sample_next(logits, rng=np.random.default_rng(7))
    other = sample_next(logits, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("seed", range(5))
def test_top_k_one_equals_greedy(seed):
    logits = _random_logits(seed=seed)
    sampled = sample_next(logits, temperature=1.5, top_k=1, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(sampled, np.argmax(logits, axis=1))


@pytest.mark.parametrize("seed", range(5))
def test_tiny_top_p_equals_greedy(seed):
    logits = _random_logits(seed=seed)
    sampled = sample_next(logits, temperature=1.0, top_p=1e-9, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(sampled, np.argmax(logits, axis=1))


def test_top_k_draws_only_from_the_k_best():
    logits = _random_logits(batch=1, vocab=30)
    sampled = sample_next(np.repeat(logits, 2000, axis=0), top_k=3, rng=np.random.default_rng(1))
    best_three = set(np.argsort(-logits[0])[:3].tolist())
    assert set(sampled.tolist()) == best_three


def test_top_p_keeps_the_smallest_set_covering_p():
    probs = np.array([[0.5, 0.3, 0.15, 0.05]])
    sampled = sample_next(np.repeat(np.log(probs), 3000, axis=0), top_p=0.75, rng=np.random.default_rng(2))
    # 0.5 alone is below 0.75, 0.5 + 0.3 covers it: tokens 2 and 3 must never appear.
    assert set(sampled.tolist()) == {0, 1}
    share_of_first = np.mean(sampled == 0)
    assert abs(share_of_first - 0.5 / 0.8) < 0.04


def test_banned_ids_never_sampled_even_when_most_likely():
    logits = np.tile(np.array([[10.0, 9.0, 0.0, 0.5]]), (4000, 1))
    sampled = sample_next(logits, temperature=2.0, banned_ids=[0, 1], rng=np.random.default_rng(3))
    assert not np.isin(sampled, [0, 1]).any()
    assert set(sampled.tolist()) == {2, 3}
    assert sample_next(logits[:1], temperature=0.0, banned_ids=(0,)).tolist() == [1]


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_empirical_frequencies_match_softmax(temperature):
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
    draws = 20000
    sampled = sample_next(np.tile(logits, (draws, 1)), temperature=temperature, rng=np.random.default_rng(4))
    expected = np.exp(log_softmax(logits[None] / temperature))[0] * draws
    observed = np.bincount(sampled, minlength=logits.size)
    chi_square = np.sum((observed - expected) ** 2 / expected)
    # 4 degrees of freedom: the 99.9th percentile of chi-square is 18.5.
    assert chi_square < 18.5


def test_log_softmax_is_stable_and_normalised():
    log_probs = log_softmax(np.array([[1e4, 1e4 - 1.0, -np.inf]]))
    assert np.isfinite(log_probs[0, :2]).all() and log_probs[0, 2] == -np.inf
    assert np.isclose(np.exp(log_probs).sum(), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"top_k": True}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(kwargs, culprit):
    with pytest.raises(ValueError, match=culprit):
        validate_sampling_args(**kwargs)
    with pytest.raises(SamplingError, match=culprit):
        sample_next(np.zeros((1, 3)), rng=np.random.default_rng(0), **kwargs)


def test_bad_logits_and_banned_ids_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(SamplingError, match="shape"):
        sample_next(np.zeros(3), rng=rng)
    with pytest.raises(SamplingError, match="NaN"):
        sample_next(np.array([[0.0, np.nan]]), rng=rng)
    with pytest.raises(SamplingError, match="outside the vocabulary"):
        sample_next(np.zeros((1, 3)), banned_ids=[3], rng=rng)
    with pytest.raises(SamplingError, match="no finite logit"):
        sample_next(np.zeros((2, 2)), banned_ids=[0, 1], rng=rng)
    with pytest.raises(SamplingError, match="rng"):
        sample_next(np.zeros((1, 3)), temperature=1.0)
