"""TextRNN / TextClassifier behaviour that needs no real data: padding invariance, exact save/load, problem
types, empty texts, unknown labels and files that are not ours."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.classification.label_encoding import UnknownLabelError
from textmodels.classification.text_classifier import TextClassifier
from textmodels.classification.text_rnn import TextRNN
from textmodels.saving import ModelFileError
from textmodels.text import TextEncoder

pytestmark = pytest.mark.all_backends

TEXTS = ["a good film", "a bad film", "good fun", "bad mess", "good good", "dull bad"]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"]


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "topk", "attention"])
@pytest.mark.parametrize(("cell", "bidirectional"), [("lstm", True), ("gru", False)])
def test_padding_never_changes_the_prediction(pooling, cell, bidirectional):
    model = TextRNN(30, 3, embedding_dim=6, units=5, cell=cell, bidirectional=bidirectional, pooling=pooling)
    short = np.array([[5, 9, 7, 0], [4, 0, 0, 0]])
    long = np.pad(short, ((0, 0), (0, 7)))
    np.testing.assert_allclose(ops.convert_to_numpy(model(short)), ops.convert_to_numpy(model(long)), atol=1e-6)
    other = ops.convert_to_numpy(model(np.array([[5, 9, 8, 0]])))
    assert not np.allclose(ops.convert_to_numpy(model(short))[0], other[0])


@pytest.fixture(scope="module")
def attention_classifier():
    keras.utils.set_random_seed(0)
    classifier = TextClassifier(embedding_dim=8, units=4, pooling="attention")
    classifier.fit(TEXTS, LABELS, epochs=1, verbose=0)
    return classifier


def test_saved_file_reloads_with_identical_probabilities(attention_classifier, tmp_path):
    path = tmp_path / "model.keras"
    attention_classifier.save(path)
    texts = ["a good film", "bad unseenword", "good"]
    expected = attention_classifier.predict_proba(texts)
    loaded = TextClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(texts), expected)
    plain = keras.saving.load_model(path, safe_mode=True)
    assert plain.label_names == ("neg", "pos") and plain.problem == "binary"
    assert plain.text_encoder.vocabulary == attention_classifier.text_encoder.vocabulary
    ids = attention_classifier.text_encoder.encode(texts)
    np.testing.assert_array_equal(plain.predict(ids, verbose=0)[:, 0], expected[:, 1])


def test_binary_problem_has_one_sigmoid_output_and_consistent_predictions(attention_classifier):
    assert attention_classifier.problem == "binary"
    assert attention_classifier.network.classifier.units == 1
    probabilities = attention_classifier.predict_proba(["good fun", "bad"])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    for prediction, row in zip(attention_classifier.predict(["good fun", "bad"]), probabilities):
        assert prediction.label == ("pos" if row[1] >= 0.5 else "neg")
        assert prediction.probability == pytest.approx(row.max())


def test_empty_text_gets_no_label_and_an_error_while_others_are_answered(attention_classifier):
    predictions = attention_classifier.predict(["good", "", "   "])
    assert predictions[0].label in ("pos", "neg") and predictions[0].error is None
    assert [p.label for p in predictions[1:]] == [None, None]
    assert all("empty" in p.error for p in predictions[1:])
    assert np.isnan(attention_classifier.predict_proba([""])).all()


def test_explain_gives_every_token_the_model_saw_a_weight_summing_to_one(attention_classifier):
    assert attention_classifier.text_encoder.max_length == 3  # the longest training text
    explanation = attention_classifier.explain("Good, unseenword film")
    assert [token for token, _ in explanation] == ["good", ",", "unseenword"]
    assert sum(weight for _, weight in explanation) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="empty"):
        attention_classifier.explain("")


def test_explain_needs_attention_pooling():
    encoder = TextEncoder.fit(TEXTS, max_length=4)
    network = TextRNN(len(encoder.vocabulary), 2, embedding_dim=4, units=3, pooling="max", text_encoder=encoder,
                      label_names=["neg", "pos"], problem="binary")
    with pytest.raises(ValueError, match="attention"):
        TextClassifier.from_network(network).explain("good film")


def test_label_never_seen_in_training_is_named_at_evaluation(attention_classifier):
    with pytest.raises(UnknownLabelError, match="'neutral'.*#1"):
        attention_classifier.evaluate(["good", "meh"], ["pos", "neutral"])


def test_multilabel_learns_each_label_and_reports_per_label_metrics():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    words = {"red": ["red", "crimson"], "blue": ["blue", "navy"], "green": ["green", "olive"]}
    fillers = ["the", "a", "car", "house", "big", "small", "old"]
    texts, labels = [], []
    for _ in range(240):
        chosen = sorted(set(rng.choice(list(words), size=rng.integers(1, 3))))
        tokens = list(rng.choice(fillers, 3)) + [rng.choice(words[c]) for c in chosen]
        texts.append(" ".join(rng.permutation(tokens)))
        labels.append(chosen)
    classifier = TextClassifier(embedding_dim=12, units=12, pooling="max", dropout=0.0, embedding_dropout=0.0,
                                token_dropout=0.0, learning_rate=0.02)
    history = classifier.fit(texts[:200], labels[:200], epochs=8, verbose=0)
    assert classifier.problem == "multilabel" and classifier.label_names == ["blue", "green", "red"]
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    report = classifier.evaluate(texts[200:], labels[200:])
    assert report["accuracy"] > 0.8 and set(report["per_class"]) == {"blue", "green", "red"}
    prediction = classifier.predict(["the navy car and olive house"])[0]
    assert prediction.label == ["blue", "green"]


def test_multiclass_inferred_for_three_labels():
    classifier = TextClassifier(embedding_dim=4, units=2)
    classifier.fit(["x", "y", "z"] * 3, ["a", "b", "c"] * 3, epochs=0, verbose=0)
    assert classifier.problem == "multiclass" and classifier.network.classifier.units == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "transformer"}, "Unknown model"),
        ({"embedding": "static"}, "needs pretrained vectors"),
        ({"embedding": "multichannel", "vectors": "v.txt"}, "TextCNN option"),
    ],
)
def test_bad_options_raise_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        TextClassifier(**options)


def test_bad_training_input_raises_clear_errors():
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        TextClassifier().fit(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="at least 2 distinct labels"):
        TextClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(RuntimeError, match="not trained"):
        TextClassifier().predict(["a"])


def test_files_that_are_not_our_models_are_rejected_clearly(tmp_path):
    missing = tmp_path / "missing.keras"
    with pytest.raises(ModelFileError, match="no such model file"):
        TextClassifier.load(missing)
    text_file = tmp_path / "notes.keras"
    text_file.write_text("hello")
    with pytest.raises(ModelFileError, match="not a .keras model archive"):
        TextClassifier.load(text_file)
    foreign = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    foreign.save(tmp_path / "foreign.keras")
    with pytest.raises(ModelFileError, match="Sequential"):
        TextClassifier.load(tmp_path / "foreign.keras")


def test_text_rnn_config_round_trips_with_its_encoder():
    encoder = TextEncoder.fit(TEXTS, max_length=5)
    model = TextRNN(len(encoder.vocabulary), 2, embedding_dim=4, units=3, pooling="topk", k=3,
                    text_encoder=encoder, label_names=["neg", "pos"], problem="binary", threshold=0.7)
    clone = TextRNN.from_config(model.get_config())
    assert clone.text_encoder.vocabulary == encoder.vocabulary and clone.threshold == 0.7 and clone.k == 3


def test_lstm_stays_eligible_for_the_fused_kernel_with_encoder_padding():
    import importlib

    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    model = TextRNN(30, 2, embedding_dim=4, units=3, problem="binary", label_names=["a", "b"])
    model.build((None, 6))
    assert model.recurrent.fused_kernel_eligible
    first_layer = model.recurrent.recurrent_layers[0]
    for direction in (first_layer.forward_layer, first_layer.backward_layer):
        assert isinstance(direction, keras.layers.LSTM) and direction.use_cudnn == "auto"
        assert direction.recurrent_dropout == 0 and not direction.unroll
    ids = TextEncoder.fit(TEXTS, max_length=6).encode(["a good film", "bad", "good good good good good good good"])
    mask = keras.ops.not_equal(ids, 0)
    assert bool(tf_rnn._is_sequence_right_padded(mask)) and not bool(tf_rnn._has_fully_masked_sequence(mask))


def test_bucketed_batches_cover_every_example_once_and_cut_padding():
    from textmodels.data.bucketed_batches import BucketedBatches

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, 200)
    ids = np.zeros((200, 40), "int32")
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(4, 50, length)
    batches = BucketedBatches(ids, np.arange(200), batch_size=16)
    for _ in range(2):
        seen = np.concatenate([batches[i][1] for i in range(len(batches))])
        assert sorted(seen.tolist()) == list(range(200))
        widths = [batches[i][0].shape[1] for i in range(len(batches))]
        assert widths[0] != widths[1]  # so Keras infers a dynamic time axis from the first two batches
        for i in range(len(batches)):
            x, y = batches[i]
            assert x.shape[1] % 8 == 0 or x.shape[1] == 40
            assert x.shape[1] >= lengths[y].max() and x.shape[1] - lengths[y].max() < 8
            np.testing.assert_array_equal(x, ids[y, : x.shape[1]])
        batches.on_epoch_end()
