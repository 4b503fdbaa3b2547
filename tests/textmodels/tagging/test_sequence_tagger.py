"""The recurrent POS tagger: real learning on treebank files with held-out FILES, padding excluded from loss,
accuracy and metrics, exact save/load, raw-text tagging, and the token features."""

import keras
import numpy as np
import pytest
from keras import ops

from textmodels.data import read_treebank_pos, treebank_fileids
from textmodels.data.bucketed_batches import BucketedBatches
from textmodels.saving import ModelFileError
from textmodels.tagging.sequence_tagger import SequenceTagger
from textmodels.tagging.token_features import SHAPES, TokenFeatures, word_shape

pytestmark = pytest.mark.all_backends


@pytest.fixture(scope="module")
def treebank(shared_data):
    path = shared_data / "nltk" / "treebank.zip"
    files = treebank_fileids(path)
    return read_treebank_pos(path, files[:40]), read_treebank_pos(path, files[-10:])


@pytest.fixture(scope="module")
def trained(treebank):
    keras.utils.set_random_seed(0)
    tagger = SequenceTagger(embedding_dim=32, suffix_dim=16, units=16, min_count=1, learning_rate=0.01)
    history = tagger.fit(treebank[0], epochs=5, verbose=0)
    return tagger, history


def test_learns_tags_of_held_out_files(trained, treebank):
    tagger, history = trained
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    report = tagger.evaluate(treebank[1])
    assert report["accuracy"] > 0.85, report["accuracy"]
    assert report["tokens"] == sum(len(sentence) for sentence in treebank[1])
    assert report["unknown_tokens"] > 0 and report["unknown_accuracy"] > 0.5
    assert "NN" in report["per_class"]


def test_padding_is_excluded_from_loss_and_accuracy(trained, treebank):
    tagger, _ = trained
    x, y = tagger.arrays(treebank[1][:16])
    _, _, weights = BucketedBatches(x, y, batch_size=16, token_weights=True, shuffle=False)[0]
    width = weights.shape[1]
    padding = weights == 0
    assert padding.any() and weights.sum() == pytest.approx(weights.size)
    other = y[:, :width].copy()
    other[padding] = (other[padding] + 7) % len(tagger.tag_names)
    first = tagger.network.evaluate(x[:, :width], y[:, :width], sample_weight=weights, verbose=0, return_dict=True)
    second = tagger.network.evaluate(x[:, :width], other, sample_weight=weights, verbose=0, return_dict=True)
    assert first == pytest.approx(second)


def test_padding_never_changes_the_tags(trained):
    tagger, _ = trained
    x = tagger.features.encode([["The", "market", "fell", "."], ["Stocks", "rose"]])
    padded = np.pad(x, ((0, 0), (0, 6), (0, 0)))
    np.testing.assert_allclose(ops.convert_to_numpy(tagger.network(x)),
                               ops.convert_to_numpy(tagger.network(padded))[:, :4], atol=1e-6)


def test_saved_tagger_reloads_with_identical_probabilities(trained, tmp_path):
    tagger, _ = trained
    path = tmp_path / "pos.keras"
    tagger.save(path)
    loaded = SequenceTagger.load(path)
    x = tagger.features.encode([["The", "company", "said", "profits", "rose", "3.5", "%", "."]])
    np.testing.assert_array_equal(loaded.network.predict(x, verbose=0), tagger.network.predict(x, verbose=0))
    assert loaded.tag_names == tagger.tag_names
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(tmp_path / "plain.keras")
    with pytest.raises(ModelFileError, match="Sequential"):
        SequenceTagger.load(tmp_path / "plain.keras")


def test_tags_raw_text_with_treebank_tokens(trained):
    tagger, _ = trained
    tagged, empty = tagger.tag(["The company's shares rose.", ""])
    assert [token for token, _ in tagged] == ["The", "company", "'s", "shares", "rose", "."]
    assert dict(tagged)["The"] == "DT" and dict(tagged)["."] == "."
    assert empty == []


def test_gold_tags_never_seen_in_training_count_as_errors(trained):
    tagger, _ = trained
    report = tagger.evaluate([[("The", "DT"), ("thing", "NEWTAG")]])
    assert report["unseen_tags"] == {"NEWTAG": 1} and report["accuracy"] <= 0.5


def test_bad_sentences_raise_clear_errors():
    with pytest.raises(ValueError, match=r"sentence #0, token 1: expected a \(word, tag\) pair"):
        SequenceTagger().fit([[("a", "DT"), "b"]])
    with pytest.raises(ValueError, match="No training sentences"):
        SequenceTagger().fit([[]])


def test_word_shapes_and_feature_encoding():
    assert [SHAPES[word_shape(t) - 1] for t in ("run", "Bush", "NASA", "1,000", "B-52", "-", "well-off")] == [
        "lower", "capitalised", "upper", "number", "has_digit", "punctuation", "has_hyphen"]
    features = TokenFeatures.fit([["The", "cats", "ran"], ["the", "dogs"]], min_count=1)
    encoded = features.encode([["THE", "bats"], ["ran"]])
    assert encoded.shape == (2, 2, 3) and encoded.dtype == np.int32
    assert encoded[0, 0, 0] == features.words["the"] and encoded[0, 1, 0] == features.words.unk_id
    assert encoded[0, 1, 1] == features.suffixes["ats"] and encoded[1, 1].tolist() == [0, 0, 0]
    clone = TokenFeatures.from_config(features.get_config())
    np.testing.assert_array_equal(clone.encode([["THE", "bats"]]), features.encode([["THE", "bats"]]))
