"""Starting a classifier from a language model: the weights it says it copies are copied (equal tensors before
fine-tuning), the vocabulary maps row by row, pretraining lifts held-out accuracy on a task that needs it, and
bad input (another shape, another kind of file, little vocabulary overlap) is a clear error or warning."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.classification import TextClassifier, TextRNN
from textmodels.data.lm_batches import stream_windows
from textmodels.errors import ConfigurationError
from textmodels.language_model import LanguageModel, encode_stream, fit_lm_encoder
from textmodels.language_model.training import compile_lm
from textmodels.saving import ModelFileError, save_model
from textmodels.transfer import MIN_COVERAGE, transfer_vocabulary

pytestmark = pytest.mark.all_backends

CLUSTER_A = [f"a{i}" for i in range(10)]
CLUSTER_B = [f"b{i}" for i in range(10)]
FILLER = ["the", "film", "was", "and", "it"]


def lm_corpus(lines: int = 300, seed: int = 0) -> str:
    """Filler words, then three words of one cluster, then that cluster's marker: a language model learns that
    the words of a cluster predict the same things, so their embeddings come out alike."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(lines):
        cluster, marker = (CLUSTER_A, "good") if rng.random() < 0.5 else (CLUSTER_B, "bad")
        out.append(" ".join([*rng.choice(FILLER, 2), *rng.choice(cluster, 3), marker]))
    return "\n".join(out) + "\n"


def pretrain(corpus: str, epochs: int, units: int = 16, layers: int = 1, cell: str = "lstm", level: str = "word"):
    keras.utils.set_random_seed(0)
    model = LanguageModel(fit_lm_encoder(corpus, level=level), embedding_dim=12, units=units, layers=layers, cell=cell)
    model.build((None, None))
    if epochs:
        compile_lm(model, "adam", 0.02)
        x, y = stream_windows(encode_stream(corpus, model.text_encoder), 8, 10)
        model.fit(x, y, batch_size=8, epochs=epochs, shuffle=True, verbose=0)
    return model


def cluster_task(words: list[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    """Filler plus one cluster word; the label is the cluster."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = "ab"[rng.integers(2)]
        word = rng.choice([w for w in words if w[0] == label])
        texts.append(" ".join([*rng.choice(FILLER, 3), word]))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def language_model():
    return pretrain(lm_corpus(), epochs=0, layers=2)


def numpy(variable) -> np.ndarray:
    return ops.convert_to_numpy(variable)


@pytest.fixture(scope="module")
def transferred(language_model):
    """A classifier started from ``language_model`` and trained one epoch of gradual unfreezing, which trains
    the head only: the copied layers still hold the pretrained tensors."""
    texts = ["the film was a1 good", "it was b2 bad", "the brand new word"] * 2
    classifier = TextClassifier(init_from=language_model, gradual_unfreezing=True, layer_rate_decay=2.6,
                                batch_size=2)
    classifier.fit(texts, ["pos", "neg", "pos"] * 2, epochs=1, verbose=0, validation_fraction=0.0)
    return classifier


def test_transfer_copies_embedding_rows_and_recurrent_layers(language_model, transferred):
    network, report = transferred.network, transferred.transfer_report
    pretrained_tokens = language_model.text_encoder.vocabulary.tokens
    tokens = transferred.text_encoder.vocabulary.tokens
    assert tokens[: len(pretrained_tokens)] == pretrained_tokens
    assert sorted(tokens[len(pretrained_tokens):]) == ["brand", "new", "word"]
    assert report.layers == ("embedding", "recurrent/lstm_0", "recurrent/lstm_1")
    assert (report.rows_from_lm, report.fresh_words) == (len(pretrained_tokens), 3)
    assert report.coverage == pytest.approx(10 / 13)
    source, target = numpy(language_model.embedding.embeddings), numpy(network.embedding.embeddings)
    vocabulary, pretrained_vocabulary = transferred.text_encoder.vocabulary, language_model.text_encoder.vocabulary
    for word in ("the", "a1", "bad", "<unk>"):  # row by row, through both vocabularies
        np.testing.assert_array_equal(target[vocabulary[word]], source[pretrained_vocabulary[word]])
    mean_row = source[4:].mean(axis=0)
    for word in ("brand", "new", "word"):
        np.testing.assert_allclose(target[vocabulary[word]], mean_row, rtol=1e-6)
    for lm_layer, layer in zip(language_model.block.recurrent_layers, network.recurrent.recurrent_layers):
        for lm_weight, weight in zip(lm_layer.cell.weights, layer.cell.weights, strict=True):
            np.testing.assert_array_equal(numpy(weight), numpy(lm_weight))
    assert not network.recurrent.bidirectional and network.units == language_model.units


def test_a_classifier_with_pretrained_layers_saves_and_reloads(transferred, tmp_path):
    transferred.save(tmp_path / "model.keras")
    reloaded = TextClassifier.load(tmp_path / "model.keras")
    texts = ["the film a1", "b2 bad it"]
    np.testing.assert_allclose(reloaded.predict_proba(texts), transferred.predict_proba(texts), atol=1e-6)
    assert type(reloaded.network.optimizer).__name__ == "LayerwiseAdam"
    assert reloaded.network.optimizer.get_config()["layer_rate_decay"] == 2.6


def test_pretraining_lifts_held_out_accuracy_over_random_initialisation():
    # The labelled examples use 3 words of each cluster; the test texts only the other 7, which a randomly
    # initialised classifier never saw (they read as <unk>), while the language model places them beside
    # their cluster-mates.
    language_model = pretrain(lm_corpus(), epochs=4)
    train = cluster_task(CLUSTER_A[:3] + CLUSTER_B[:3], 96, seed=1)
    test = cluster_task(CLUSTER_A[3:] + CLUSTER_B[3:], 200, seed=2)
    accuracies = {}
    for name, options in (("random", dict(embedding_dim=12, units=16)), ("pretrained", dict(init_from=language_model))):
        keras.utils.set_random_seed(0)
        classifier = TextClassifier(**options, learning_rate=0.01, batch_size=16, token_dropout=0.0)
        classifier.fit(*train, epochs=5, verbose=0, validation_fraction=0.0)
        accuracies[name] = classifier.evaluate(*test)["accuracy"]
    assert accuracies["pretrained"] >= 0.9 and accuracies["random"] <= 0.7, accuracies


@pytest.mark.parametrize(
    ("options", "lm_options", "message"),
    [
        (dict(units=32), {}, "has 16 units per layer but this classifier asks for 32 units per layer"),
        (dict(cell="gru"), {}, "has lstm cells but this classifier asks for gru cells"),
        (dict(layers=2), {}, "has 1 recurrent layer but this classifier asks for 2 recurrent layers"),
        (dict(embedding_dim=64), {}, "has embedding width 12 but this classifier asks for embedding width 64"),
        (dict(level="word"), dict(level="char"), "has char-level tokens but this classifier asks for word-level"),
    ],
)
def test_a_shape_mismatch_names_both_sizes(options, lm_options, message):
    language_model = pretrain("the film a1 good\nit b2 bad\n", epochs=0, **lm_options)
    classifier = TextClassifier(init_from=language_model, **options)
    with pytest.raises(ConfigurationError, match=message):
        classifier.fit(["the film", "it was"], ["a", "b"], epochs=1, verbose=0)


def test_a_bidirectional_network_takes_the_model_into_its_forward_direction():
    language_model = pretrain("the film a1 good\nit b2 bad\n", epochs=0)
    classifier = TextClassifier(init_from=language_model, bidirectional=True)
    classifier.fit(["the film", "it was"], ["a", "b"], epochs=0, verbose=0)
    layer = classifier.network.recurrent.recurrent_layers[0]
    assert classifier.transfer_report.layers == ("embedding", "recurrent/bidirectional_0/forward")
    pretrained = language_model.block.recurrent_layers[0].cell.weights
    for lm_weight, weight in zip(pretrained, layer.forward_layer.cell.weights, strict=True):
        np.testing.assert_array_equal(numpy(weight), numpy(lm_weight))
    assert not np.array_equal(numpy(layer.backward_layer.cell.weights[0]), numpy(layer.forward_layer.cell.weights[0]))


def test_a_bidirectional_network_takes_one_layer_only(language_model):
    with pytest.raises(ConfigurationError, match="forward direction, which needs one layer; this one has 2"):
        TextClassifier(init_from=language_model, bidirectional=True).fit(["a b"] * 2, ["x", "y"], epochs=0)


def test_init_from_another_kind_of_file_names_what_it_holds(tmp_path):
    network = TextRNN(10, 2, embedding_dim=4, units=2, label_names=["neg", "pos"], problem="binary")
    network.build((None, 3))
    save_model(network, tmp_path / "classifier.keras")
    (tmp_path / "corrupt.keras").write_bytes(b"PK\x03\x04 cut short")
    for name, message in (("classifier.keras", "holds a TextRNN model, not a language model"),
                          ("corrupt.keras", "truncated or damaged")):
        with pytest.raises(ModelFileError, match=message):
            TextClassifier(init_from=tmp_path / name).fit(["a b"] * 4, ["x", "y"] * 2, epochs=1, verbose=0)


def test_low_vocabulary_overlap_warns_with_the_figure(language_model):
    texts = ["entirely other words here", "nothing the model knows", "the"]
    with pytest.warns(UserWarning, match=r"knows only 22\.2% of the training tokens \(7 new words\)"):
        transfer_vocabulary(language_model, texts)
    assert MIN_COVERAGE == 0.5


def test_fine_tuning_the_language_model_on_the_task_texts_first(language_model):
    texts = ["the film was a1 good", "it was b2 bad"] * 8
    classifier = TextClassifier(init_from=language_model, lm_epochs=1, batch_size=4)
    classifier.fit(texts, ["pos", "neg"] * 8, epochs=1, verbose=0, validation_fraction=0.0)
    # The classifier started from the fine-tuned copy; the language model passed in is left as it was.
    tuned = numpy(classifier.network.recurrent.recurrent_layers[0].cell.weights[0])
    original = numpy(language_model.block.recurrent_layers[0].cell.weights[0])
    assert not np.allclose(tuned, original)
    assert classifier.transfer_report.layers[0] == "embedding"


def test_a_tagger_starts_its_word_embedding_from_the_language_model(language_model):
    from textmodels.tagging import SequenceTagger

    sentences = [[("the", "DT"), ("film", "NN"), ("glistens", "VBZ")], [("it", "PRP"), ("was", "VBD")]] * 3
    tagger = SequenceTagger(init_from=language_model, units=4, min_count=1)
    tagger.fit(sentences, epochs=0, verbose=0)
    words, pretrained = tagger.features.words, language_model.text_encoder.vocabulary
    assert words.tokens[: len(pretrained)] == pretrained.tokens and words.tokens[len(pretrained):] == ["glistens"]
    assert tagger.transfer_report.layers == ("word_embedding",) and tagger.network.embedding_dim == 12
    source, target = numpy(language_model.embedding.embeddings), numpy(tagger.network.word_embedding.embeddings)
    np.testing.assert_array_equal(target[words["film"]], source[pretrained["film"]])
    with pytest.raises(ConfigurationError, match="has embedding width 12 but this tagger asks for embedding width 8"):
        SequenceTagger(init_from=language_model, embedding_dim=8).fit(sentences, epochs=0, verbose=0)
