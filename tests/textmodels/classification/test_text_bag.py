"""The bag-of-n-grams classifier (TextBag, model="bag"): n-gram ids from the TextEncoder, padding invariance,
bigrams that learn what words alone cannot, save/load, the "auto" choice, bad options, and real learning on
long movie reviews."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.classification import TextBag, TextClassifier
from textmodels.data import read_class_folders
from textmodels.errors import ConfigurationError
from textmodels.text import TextEncoder


def test_encoder_adds_the_ngrams_seen_twice_after_the_word_that_ends_them():
    encoder = TextEncoder.fit(["not good at all", "not good", "good fun"], ngrams=2)
    vocabulary = encoder.vocabulary
    assert "not good" in vocabulary and "good fun" not in vocabulary  # seen twice / once
    ids = encoder.encode(["really not good fun"])[0]
    assert [vocabulary.token(i) for i in ids if i] == ["<unk>", "not", "good", "not good", "fun"]
    assert encoder.decode(ids) == "<unk> not good fun"  # the n-grams are not text
    words_only = TextEncoder.fit(["not good", "not good"])
    assert [words_only.vocabulary.token(i) for i in words_only.encode(["not good"])[0]] == ["not", "good"]


def test_encoder_ngrams_round_trip_through_the_config_and_refuse_characters():
    encoder = TextEncoder.fit(["a b c", "a b d"], ngrams=3)
    restored = TextEncoder.from_config(keras.saving.serialize_keras_object(encoder)["config"])
    assert restored.ngrams == 3 and restored.encode(["a b c"]).tolist() == encoder.encode(["a b c"]).tolist()
    with pytest.raises(ConfigurationError, match="word tokens"):
        TextEncoder.fit(["abc"], level="char", ngrams=2)


@pytest.mark.all_backends
def test_padding_never_changes_the_output():
    model = TextBag(30, 3, embedding_dim=6)
    short = np.array([[5, 0, 0], [7, 8, 9]])
    np.testing.assert_allclose(ops.convert_to_numpy(model(short)),
                               ops.convert_to_numpy(model(np.pad(short, ((0, 0), (0, 7))))), atol=1e-6)


def _word_order_task(count: int, seed: int):
    """Every text holds the same words; only whether "x" comes right before "y" or right after it decides the
    label, so a bag of words alone sits at chance and its bigrams solve it."""
    rng = np.random.default_rng(seed)
    fillers = [f"w{index}" for index in range(20)]
    texts, labels = [], []
    for _ in range(count):
        words = list(rng.choice(fillers, size=6))
        label = int(rng.integers(2))
        position = int(rng.integers(7))
        texts.append(" ".join(words[:position] + (["x", "y"] if label else ["y", "x"]) + words[position:]))
        labels.append(["after", "before"][label])
    return texts, labels


@pytest.mark.all_backends
def test_bigrams_learn_word_order_that_words_alone_cannot(tmp_path):
    train, test = _word_order_task(600, 0), _word_order_task(200, 1)
    accuracy = {}
    for ngrams in (1, 2):
        keras.utils.set_random_seed(0)
        classifier = TextClassifier("bag", ngrams=ngrams, embedding_dim=8)
        classifier.fit(*train, epochs=15, verbose=0)
        accuracy[ngrams] = classifier.evaluate(*test)["accuracy"]
    assert accuracy[2] > 0.95 and accuracy[1] < 0.65, accuracy
    path = tmp_path / "bag.keras"
    classifier.save(path)
    loaded = TextClassifier.load(path)
    assert isinstance(loaded.network, TextBag) and loaded.text_encoder.ngrams == 2
    np.testing.assert_array_equal(loaded.predict_proba(test[0][:20]), classifier.predict_proba(test[0][:20]))


@pytest.mark.all_backends
def test_auto_takes_the_bag_for_long_documents_and_the_rnn_for_sentences():
    long_texts = [" ".join(["great"] * 150), " ".join(["awful"] * 150)] * 4
    short_texts = ["great film", "awful film"] * 4
    labels = ["pos", "neg"] * 4
    for texts, kind, network in ((long_texts, "bag", "TextBag"), (short_texts, "textrnn", "TextRNN")):
        classifier = TextClassifier(embedding_dim=4, units=2)
        classifier.fit(texts, labels, epochs=1, verbose=0)
        assert classifier.model_kind == kind and type(classifier.network).__name__ == network
    assert float(ops.convert_to_numpy(classifier.network.optimizer.learning_rate)) == pytest.approx(1e-3)
    bag = TextClassifier(embedding_dim=4)
    bag.fit(long_texts, labels, epochs=1, verbose=0)
    assert float(ops.convert_to_numpy(bag.network.optimizer.learning_rate)) == pytest.approx(1e-2)
    assert bag.text_encoder.max_length == 150 + 149  # every word and bigram: the bag reads the whole text


def test_bag_refuses_what_it_cannot_use(tmp_path):
    for options in ({"level": "char"}, {"vectors": tmp_path / "v.txt"}, {"init_from": tmp_path / "lm.keras"}):
        with pytest.raises(ConfigurationError, match="model='bag'"):
            TextClassifier("bag", **options)
    with pytest.raises(ConfigurationError, match="ngrams"):
        TextClassifier("bag", ngrams=0)


def test_the_default_classifier_learns_long_movie_reviews(shared_data):
    data = read_class_folders(shared_data / "nltk" / "movie_reviews.zip")
    order = np.random.default_rng(0).permutation(len(data))
    keras.utils.set_random_seed(0)
    classifier = TextClassifier()
    classifier.fit(data.take(order[:800]), epochs=8, verbose=0)
    assert classifier.model_kind == "bag"
    assert classifier.evaluate(data.take(order[1600:]))["accuracy"] > 0.75
