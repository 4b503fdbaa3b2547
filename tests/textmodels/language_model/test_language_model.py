"""The LanguageModel: exact perplexity, carried state, tied embeddings, masking and `.keras` round trips."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from textmodels.data.lm_batches import stream_windows
from textmodels.language_model.encoding import encode_sentences, encode_stream, fit_lm_encoder
from textmodels.language_model.language_model import LanguageModel
from textmodels.language_model.perplexity import evaluate_language_model
from textmodels.saving import ModelFileError

pytestmark = pytest.mark.all_backends

TEXT = "the cat sat on the mat\nthe dog ate the bone\na cat and a dog\n"


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _model(level="word", regime="stream", **options):
    encoder = fit_lm_encoder(TEXT, level=level, regime=regime)
    settings = dict(embedding_dim=6, units=7, layers=2, cell="gru")
    settings.update(options)
    model = LanguageModel(encoder, regime=regime, **settings)
    model.build((None, None))
    # Random non-zero output weights so that predictions depend on the context.
    for variable in model.trainable_weights:
        variable.assign(np.random.default_rng(0).normal(0, 0.5, tuple(variable.shape)).astype("float32"))
    return model


@pytest.mark.parametrize("level", ["word", "char"])
def test_stream_perplexity_equals_brute_force_total_nll(level):
    model = _model(level=level, cell="lstm")
    ids = encode_stream(TEXT, model.text_encoder)
    # Brute force: one pass over the whole text from a zero state, every token after the first predicted.
    log_probs = _log_softmax(keras.ops.convert_to_numpy(model(ids[None, :-1])).astype("float64"))[0]
    total = -log_probs[np.arange(len(ids) - 1), ids[1:]].sum()
    for window in (3, 1000):  # the window only changes speed: the state is carried between windows
        score = evaluate_language_model(model, TEXT, window=window)
        assert score.tokens == len(ids) - 1
        assert score.total_nll == pytest.approx(total, rel=1e-5)
        assert score.perplexity == pytest.approx(np.exp(total / (len(ids) - 1)), rel=1e-5)
    if level == "char":
        assert score.bits_per_char == pytest.approx(total / (len(ids) - 1) / np.log(2), rel=1e-5)
        assert set(score.as_dict()) == {"perplexity", "tokens", "nats_per_token", "bits_per_char"}
    else:
        assert score.bits_per_char is None and "bits_per_char" not in score.as_dict()


def test_sentence_perplexity_counts_eos_not_bos_and_ignores_padding():
    model = _model(regime="sentences")
    sentences = encode_sentences(TEXT, model.text_encoder)
    total, tokens = 0.0, 0
    for row in sentences:
        ids = row[row > 0]
        log_probs = _log_softmax(keras.ops.convert_to_numpy(model(ids[None, :-1])).astype("float64"))[0]
        total -= log_probs[np.arange(len(ids) - 1), ids[1:]].sum()
        tokens += len(ids) - 1
    score = evaluate_language_model(model, TEXT)
    assert score.tokens == tokens == sum(len(line.split()) + 1 for line in TEXT.splitlines())
    assert score.total_nll == pytest.approx(total, rel=1e-5)


def test_stateful_model_carries_state_from_batch_to_batch():
    model = _model(cell="lstm")
    stateful = LanguageModel.from_config({**model.get_config(), "stateful": True})
    stateful.build((2, None))
    stateful.set_weights(model.get_weights())
    ids = np.arange(4, 4 + 2 * 6 + 1) % model.vocabulary_size
    x, _ = stream_windows(ids, batch_size=2, num_steps=3)
    outputs = [keras.ops.convert_to_numpy(stateful(x[i : i + 2])) for i in range(0, len(x), 2)]
    streams = np.stack([x[0::2].reshape(-1), x[1::2].reshape(-1)])  # each stream's windows, joined
    whole = keras.ops.convert_to_numpy(model(streams))
    carried = np.concatenate(outputs, axis=1)
    np.testing.assert_allclose(carried[0], whole[0], atol=1e-5)
    np.testing.assert_allclose(carried[1], whole[1], atol=1e-5)
    stateful.reset_state()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(stateful(x[:2])), outputs[0], atol=1e-6)


def test_tied_embeddings_share_the_matrix_and_project_when_sizes_differ():
    same = _model(tie_embeddings=True, embedding_dim=7, units=7)
    assert same.projection is None and same.output_layer is None
    different = _model(tie_embeddings=True, embedding_dim=5, units=9)
    assert tuple(different.projection.kernel.shape) == (9, 5)
    untied = _model()
    vocabulary_size = same.vocabulary_size
    assert untied.count_params() - untied.embedding.count_params() > same.count_params() - same.embedding.count_params()
    # Changing the embedding matrix changes the output layer too.
    ids = np.array([[4, 5, 6]])
    before = keras.ops.convert_to_numpy(same(ids))
    same.embedding.embeddings.assign(same.embedding.embeddings * 2.0)
    after = keras.ops.convert_to_numpy(same(ids))
    assert before.shape == (1, 3, vocabulary_size) and not np.allclose(before, after)


@pytest.mark.parametrize("options", [dict(level="char", cell="lstm"), dict(regime="sentences", tie_embeddings=True,
                                                                           embedding_dim=4, cell="peephole_lstm")])
def test_keras_round_trip_keeps_vocabulary_and_exact_perplexity(tmp_path, options):
    model = _model(**options)
    path = tmp_path / "lm.keras"
    model.save(path)
    loaded = LanguageModel.load(path)
    assert loaded.text_encoder.vocabulary == model.text_encoder.vocabulary
    assert type(loaded.text_encoder.tokenizer) is type(model.text_encoder.tokenizer)
    assert (loaded.regime, loaded.level, loaded.cell) == (model.regime, model.level, model.cell)
    assert evaluate_language_model(loaded, TEXT).total_nll == evaluate_language_model(model, TEXT).total_nll


def test_stateful_checkpoint_loads_stateless(tmp_path):
    model = _model()
    stateful = LanguageModel.from_config({**model.get_config(), "stateful": True})
    stateful.build((3, None))
    stateful.set_weights(model.get_weights())
    stateful.save(tmp_path / "last.keras")
    loaded = LanguageModel.load(tmp_path / "last.keras")
    assert not loaded.stateful
    expected = evaluate_language_model(model, TEXT).total_nll
    assert evaluate_language_model(loaded, TEXT).total_nll == pytest.approx(expected)


def test_files_that_are_not_language_models_are_rejected(tmp_path):
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.save(tmp_path / "dense.keras")
    with pytest.raises(ModelFileError, match=r"dense.keras: holds a Sequential model, not a language model"):
        LanguageModel.load(tmp_path / "dense.keras")
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(ModelFileError, match="text.keras: not a .keras model archive"):
        LanguageModel.load(tmp_path / "text.keras")
    with pytest.raises(ModelFileError, match="absent.keras: no such model file"):
        LanguageModel.load(tmp_path / "absent.keras")


def test_invalid_settings_are_rejected():
    encoder = fit_lm_encoder(TEXT)
    with pytest.raises(ValueError, match="Unknown regime 'documents'; valid regimes: stream, sentences"):
        LanguageModel(encoder, regime="documents")
    with pytest.raises(ValueError, match="Unknown cell 'transformer'"):
        LanguageModel(encoder, cell="transformer")
    with pytest.raises(TypeError, match="encoder must be a TextEncoder"):
        LanguageModel(encoder.vocabulary)
