"""Sampling: one step at a time with carried state, banned tokens, <eos>, seeds and primes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from textmodels.data.lm_batches import sentence_pairs
from textmodels.decoding import SamplingError
from textmodels.language_model.encoding import encode_sentences, fit_lm_encoder
from textmodels.language_model.language_model import LanguageModel
from textmodels.language_model.text_generator import TextGenerator, UnknownPrimeError
from textmodels.language_model.training import compile_lm
from textmodels.text import EOS, UNK

pytestmark = pytest.mark.all_backends

TEXT = "the cat sat on the mat\nthe dog ate the bone\n"


def _model(level="word", regime="stream", favour=None):
    model = LanguageModel(fit_lm_encoder(TEXT, level=level, regime=regime), 6, 6, layers=2, cell="gru",
                          tie_embeddings=False, regime=regime)
    model.build((None, None))
    for variable in model.trainable_weights:
        variable.assign(np.random.default_rng(1).normal(0, 0.5, tuple(variable.shape)).astype("float32"))
    if favour is not None:
        bias = np.zeros(model.vocabulary_size, "float32")
        bias[model.text_encoder.vocabulary[favour]] = 50.0
        model.output_layer.bias.assign(bias)
    return model


def test_stepwise_log_probs_equal_a_full_pass_over_the_prefix():
    model = _model()
    generator = TextGenerator(model)
    generation = generator.generate(prime="the cat", max_tokens=6, temperature=1.0, seed=5, stop_at_eos=False)
    start = generator.start_ids("the cat")
    context = start + generation.token_ids
    full = keras.ops.convert_to_numpy(keras.ops.log_softmax(model(np.array([context])), axis=-1))[0]
    # Re-run the steps: the compiled step with carried state must give the full pass's log-probs everywhere.
    token, states = generator.prime_state("the cat")
    assert token == start[-1]
    for offset, next_token in enumerate(generation.token_ids):
        log_probs, states = generator.step(np.array([token]), states)
        np.testing.assert_allclose(log_probs[0], full[len(start) - 1 + offset], atol=1e-5)
        token = next_token


def test_a_generator_from_an_unbuilt_model_reads_the_weights_as_they_are_now():
    # The generator builds the model before compiling its step: on JAX the step takes every variable as an
    # argument, and one created inside the trace would be frozen into it (and ran 50x slower).
    model = LanguageModel(fit_lm_encoder(TEXT), 6, 6, layers=2, cell="lstm")
    generator = TextGenerator(model)
    assert model.built and len(model.trainable_weights) == 9  # embedding, 2 x (kernel, recurrent, bias), dense
    tokens, states = np.array([4, 5], "int32"), model.initial_state(2)
    before, _ = generator.step(tokens, states)
    for variable in model.block.trainable_weights:
        variable.assign(np.random.default_rng(2).normal(0, 1.0, tuple(variable.shape)).astype("float32"))
    after, _ = generator.step(tokens, states)
    expected = keras.ops.convert_to_numpy(keras.ops.log_softmax(model(tokens[:, None], initial_state=states)))
    assert not np.allclose(before, after, atol=1e-3)
    np.testing.assert_allclose(after, expected[:, 0], atol=1e-5)


def test_greedy_is_deterministic_and_seeds_reproduce():
    generator = TextGenerator(_model(level="char"))
    greedy = generator.generate(prime="th", max_tokens=12, temperature=0.0)
    assert greedy == generator.generate(prime="th", max_tokens=12, temperature=0.0, seed=99)
    first = generator.generate(max_tokens=30, temperature=1.5, seed=7)
    assert first == generator.generate(max_tokens=30, temperature=1.5, seed=7)
    assert first != generator.generate(max_tokens=30, temperature=1.5, seed=8)
    assert len(first.token_ids) == 30 and len(first.text) == 30
    assert greedy.full_text == "th" + greedy.text


def test_unk_is_never_emitted_even_when_the_model_prefers_it():
    generator = TextGenerator(_model(favour=UNK))
    for seed in range(3):
        generation = generator.generate(max_tokens=20, temperature=1.0, seed=seed, stop_at_eos=False)
        assert generator.vocabulary.unk_id not in generation.token_ids
        assert "<unk>" not in generation.text and len(generation.token_ids) == 20


def test_generation_stops_at_eos_or_max_tokens():
    stopping = TextGenerator(_model(regime="sentences", favour=EOS)).generate(prime="the", max_tokens=10, seed=0)
    assert stopping.stopped_at_eos and stopping.token_ids == [] and stopping.full_text == "the"
    running = TextGenerator(_model(regime="sentences")).generate(max_tokens=4, temperature=0.0, stop_at_eos=False)
    assert len(running.token_ids) == 4 and not running.stopped_at_eos


def test_start_tokens_and_prime_rules():
    vocabulary = fit_lm_encoder(TEXT).vocabulary
    stream = TextGenerator(_model())
    assert stream.start_ids() == [vocabulary.eos_id]
    assert stream.start_ids("the zebra") == [vocabulary.eos_id, vocabulary["the"], vocabulary.unk_id]
    sentences = TextGenerator(_model(regime="sentences"))
    assert sentences.start_ids("cat")[0] == vocabulary.bos_id
    assert TextGenerator(_model(level="char")).start_ids()[0] == fit_lm_encoder(TEXT, level="char").vocabulary["\n"]
    with pytest.raises(UnknownPrimeError, match=r"no token in the model's vocabulary \('zebra', 'quux'\)"):
        stream.generate(prime="zebra quux")
    with pytest.raises(UnknownPrimeError, match="known character"):
        TextGenerator(_model(level="char")).generate(prime="XYZ")


@pytest.mark.parametrize(
    "options, message",
    [(dict(temperature=-0.5), "temperature must be >= 0"), (dict(top_p=0.0), "top_p must be None or a number in"),
     (dict(top_p=1.5), "top_p"), (dict(top_k=0), "top_k must be None or an int >= 1"),
     (dict(max_tokens=0), "max_tokens must be a positive integer")],
)
def test_bad_sampling_arguments_are_rejected(options, message):
    with pytest.raises((SamplingError, ValueError), match=message):
        TextGenerator(_model()).generate(**options)


@pytest.mark.slow
def test_beam_search_finds_the_likelier_sentence_that_greedy_misses():
    # From <bos>, "a" (60%) is followed by one of five words (20% each), "b" (40%) always by "c": greedy takes
    # "a" and ends with a sentence of probability 0.6 x 0.2 = 0.12, beam search finds "b c" at 0.4.
    text = "\n".join([f"a w{i % 5}" for i in range(60)] + ["b c"] * 40) + "\n"
    encoder = fit_lm_encoder(text, regime="sentences")
    model = LanguageModel(encoder, 8, 16, layers=1, cell="gru", regime="sentences")
    compile_lm(model, "adam", 0.02)
    keras.utils.set_random_seed(0)
    x, y = sentence_pairs(encode_sentences(text, encoder))
    model.fit(x, y, batch_size=20, epochs=60, verbose=0)
    generator = TextGenerator(model)
    greedy = generator.generate(max_tokens=4, temperature=0.0)
    assert greedy.text.startswith("a w") and greedy.stopped_at_eos
    beam = generator.generate(max_tokens=4, beam_size=3, length_penalty=0.0)
    assert beam.text == "b c" and beam.stopped_at_eos
    assert generator.generate(max_tokens=4, beam_size=1) == greedy
