"""TextRNN really learns on real data (an MR subset): the loss falls and held-out accuracy beats chance; the
saved model reloads with identical probabilities and explains with attention weights."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.classification.text_classifier import TextClassifier
from textmodels.data import read_sentence_polarity


@pytest.fixture(scope="module")
def mr_split(shared_data):
    data = read_sentence_polarity(shared_data / "nltk" / "sentence_polarity.zip")
    order = np.random.default_rng(0).permutation(len(data))
    return data.take(order[:900]), data.take(order[900:1300])


@pytest.fixture(scope="module")
def trained(mr_split):
    keras.utils.set_random_seed(0)
    classifier = TextClassifier(embedding_dim=32, units=16, pooling="attention", max_length=40, dropout=0.3,
                                learning_rate=0.005)
    history = classifier.fit(mr_split[0], epochs=4, verbose=0)
    return classifier, history


def test_loss_falls_and_held_out_accuracy_beats_chance(trained, mr_split):
    classifier, history = trained
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]
    report = classifier.evaluate(mr_split[1])
    assert report["accuracy"] > 0.6, report["accuracy"]
    assert set(report["per_class"]) == {"neg", "pos"} and report["examples"] == 400
    assert sum(map(sum, report["confusion_matrix"])) == 400


def test_reloaded_real_model_gives_identical_probabilities(trained, mr_split, tmp_path):
    classifier, _ = trained
    path = tmp_path / "mr.keras"
    classifier.save(path)
    texts = mr_split[1].texts[:50]
    np.testing.assert_array_equal(TextClassifier.load(path).predict_proba(texts), classifier.predict_proba(texts))


def test_padding_to_a_longer_length_never_changes_the_probability(trained):
    classifier, _ = trained
    ids = classifier.text_encoder.encode(["a gorgeous , witty film", "dull"])
    padded = np.pad(ids, ((0, 0), (0, 25)))
    np.testing.assert_allclose(ops.convert_to_numpy(classifier.network(ids)),
                               ops.convert_to_numpy(classifier.network(padded)), atol=1e-6)


def test_explain_weights_follow_the_tokens(trained):
    classifier, _ = trained
    explanation = classifier.explain("a gorgeous, witty film")
    assert [token for token, _ in explanation] == ["a", "gorgeous", ",", "witty", "film"]
    weights = np.array([weight for _, weight in explanation])
    assert weights.sum() == pytest.approx(1.0, abs=1e-5) and (weights > 0).all()
