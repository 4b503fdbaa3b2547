"""TextCNN (Kim 2014): padding invariance for every embedding mode, frozen vs fine-tuned channels from a
vectors file, save/load, and real learning on an MR subset."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.classification.text_classifier import TextClassifier
from textmodels.classification.text_cnn import TextCNN
from textmodels.data import read_sentence_polarity


@pytest.mark.parametrize("embedding", ["rand", "static", "non-static", "multichannel"])
def test_padding_and_short_texts_never_change_the_output(embedding):
    model = TextCNN(40, 3, embedding_dim=6, filters=4, embedding=embedding)
    short = np.array([[5, 0, 0], [7, 8, 9]])  # the first text is shorter than every filter
    long = np.pad(short, ((0, 0), (0, 9)))
    np.testing.assert_allclose(ops.convert_to_numpy(model(short)), ops.convert_to_numpy(model(long)), atol=1e-6)


def test_kim_defaults():
    model = TextCNN(40, 2)
    assert model.filter_widths == (3, 4, 5) and model.filters == 100 and model.dropout_rate == 0.5
    model.build((None, 10))
    assert model.classifier.kernel.shape == (300, 2)


def test_bad_options_raise_clear_errors():
    with pytest.raises(ValueError, match="Unknown TextCNN embedding"):
        TextCNN(10, 2, embedding="glove")
    with pytest.raises(ValueError, match="filter_widths"):
        TextCNN(10, 2, filter_widths=(3, 0))


@pytest.fixture
def vectors_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "vectors.txt"
    words = ["good", "great", "fun", "bad", "dull", "awful", "film"]
    path.write_text("".join(f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=5)) + "\n" for w in words))
    return path


def test_multichannel_trains_one_channel_and_freezes_the_other(vectors_file, tmp_path):
    keras.utils.set_random_seed(0)
    texts = ["good film", "great fun", "bad film", "dull awful", "good fun", "awful film"] * 4
    labels = ["pos", "pos", "neg", "neg", "pos", "neg"] * 4
    classifier = TextClassifier("textcnn", vectors=vectors_file, embedding="multichannel", filters=4)
    classifier.fit(texts, labels, epochs=0, verbose=0)  # builds the network and loads the vectors, no steps
    network = classifier.network
    vocabulary = classifier.text_encoder.vocabulary
    initial = ops.convert_to_numpy(network.static_embedding.embeddings).copy()
    np.testing.assert_allclose(ops.convert_to_numpy(network.embedding.embeddings), initial)
    assert classifier.vectors_report.found == 7 and network.embedding_dim == 5
    classifier.fit(texts, labels, epochs=2, verbose=0)
    np.testing.assert_array_equal(ops.convert_to_numpy(network.static_embedding.embeddings), initial)
    row = vocabulary["good"]
    assert not np.allclose(ops.convert_to_numpy(network.embedding.embeddings)[row], initial[row])
    path = tmp_path / "cnn.keras"
    classifier.save(path)
    loaded = TextClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(texts[:6]), classifier.predict_proba(texts[:6]))


def test_text_cnn_rand_learns_mr_sentences(shared_data):
    data = read_sentence_polarity(shared_data / "nltk" / "sentence_polarity.zip")
    order = np.random.default_rng(1).permutation(len(data))
    keras.utils.set_random_seed(0)
    classifier = TextClassifier("textcnn", embedding_dim=32, filters=16, max_length=40, dropout=0.3,
                                learning_rate=0.005)
    history = classifier.fit(data.take(order[:900]), epochs=4, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert classifier.evaluate(data.take(order[900:1300]))["accuracy"] > 0.6
