"""Tokenizers, Vocabulary, padding and TextEncoder: round trips (property-based) and bad input."""

import json

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textmodels.text import CharTokenizer, TextEncoder, Vocabulary, WordTokenizer, get_tokenizer, pack_ids

words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=8)


@given(st.lists(st.lists(words, max_size=12), max_size=8))
@settings(max_examples=60, deadline=None)
def test_vocabulary_round_trip_of_known_tokens(token_lists):
    vocab = Vocabulary.build(token_lists)
    for tokens in token_lists:
        ids = vocab.encode(tokens, add_bos=True, add_eos=True)
        assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id
        assert vocab.decode(ids) == list(tokens)


@given(st.lists(words, min_size=1, max_size=30), st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_min_count_keeps_exactly_the_frequent_tokens(tokens, min_count):
    vocab = Vocabulary.build([tokens], min_count=min_count)
    for token in set(tokens):
        assert (token in vocab) == (tokens.count(token) >= min_count)


@given(st.text(max_size=40))
@settings(max_examples=80, deadline=None)
def test_char_tokenizer_round_trip(text):
    tokenizer = CharTokenizer()
    assert tokenizer.detokenize(tokenizer.tokenize(text)) == text


@given(st.lists(st.lists(st.integers(4, 50), max_size=10), max_size=6), st.integers(3, 12), st.booleans())
@settings(max_examples=60, deadline=None)
def test_packing_cuts_words_keeps_markers_and_pads_after(sequences, max_length, markers):
    bos, eos = (Vocabulary.bos_id, Vocabulary.eos_id) if markers else (None, None)
    packed = pack_ids(sequences, max_length, bos, eos)
    assert packed.shape == (len(sequences), max_length) and packed.dtype == np.int32
    for row, sequence in zip(packed, sequences):
        kept = ([bos] if markers else []) + sequence[: max_length - 2 * markers] + ([eos] if markers else [])
        assert row[: len(kept)].tolist() == kept
        assert not row[len(kept):].any()


def test_packing_needs_room_for_a_word():
    with pytest.raises(ValueError, match="max_length must leave room"):
        pack_ids([[5]], max_length=2, bos_id=2, eos_id=3)
    assert pack_ids([], bos_id=2).shape == (0, 1)


def test_max_size_keeps_most_frequent_and_counts_reserved():
    vocab = Vocabulary.build([["a"] * 3 + ["b"] * 2 + ["c"]], max_size=6)
    assert vocab.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]


def test_vocabulary_json_and_keras_config_round_trip(tmp_path):
    vocab = Vocabulary.build([["x", "y", "y"]])
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json") == vocab
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(vocab))
    assert restored == vocab


def test_vocabulary_rejects_bad_files_and_ids(tmp_path):
    (tmp_path / "other.json").write_text(json.dumps({"tokens": ["a"]}))
    with pytest.raises(ValueError, match="not a textmodels vocabulary"):
        Vocabulary.load(tmp_path / "other.json")
    with pytest.raises(ValueError, match="reserved"):
        Vocabulary(["a", "b"])
    with pytest.raises(IndexError, match="99"):
        Vocabulary.build([["a"]]).decode([99])


def test_word_tokenizer_needs_no_nltk_data_and_handles_edge_cases():
    assert WordTokenizer().tokenize("Isn't it GOOD?") == ["is", "n't", "it", "good", "?"]
    assert WordTokenizer(lowercase=False).tokenize("Good") == ["Good"]
    assert WordTokenizer().tokenize("") == []
    assert WordTokenizer().tokenize("   \n ") == []
    with pytest.raises(TypeError, match="Expected text as str"):
        WordTokenizer().tokenize(42)
    with pytest.raises(ValueError, match="treebank, regexp"):
        WordTokenizer(method="spacy")
    with pytest.raises(ValueError, match="word' or 'char"):
        get_tokenizer("byte")


def test_text_encoder_unknown_only_empty_and_overlong_text():
    encoder = TextEncoder.fit(["the cat sat", "the dog ran"], max_length=4)
    ids = encoder.encode(["zebra quokka", "", "the cat sat on the mat again"])
    assert ids.shape == (3, 4)
    assert ids[0].tolist() == [1, 1, 0, 0]  # unknown words become <unk>, not dropped
    assert not ids[1].any()  # an empty text is all padding
    assert ids[2].tolist()[:3] == encoder.encode_one("the cat sat")  # over-long text is truncated at the end
    wrapped = TextEncoder(encoder.tokenizer, encoder.vocabulary, max_length=4, add_bos=True, add_eos=True)
    assert wrapped.encode(["the cat sat on"]).tolist() == [[2, *encoder.encode_one("the cat"), 3]]  # keeps <eos>
    with pytest.raises(TypeError, match="Text #1"):
        encoder.encode(["fine", None])
    with pytest.raises(TypeError, match="list of texts"):
        encoder.encode("not a list")
    with pytest.raises(ValueError, match="no tokens"):
        TextEncoder.fit(["", "  "])


def test_text_encoder_serializes_with_every_choice():
    encoder = TextEncoder.fit(["Ab", "ba"], level="char", max_length=5, add_bos=True, add_eos=True)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(encoder))
    np.testing.assert_array_equal(restored.encode(["Abba"]), encoder.encode(["Abba"]))
    assert restored.decode(encoder.encode(["Ab"])[0]) == "Ab"


def test_middle_truncation_keeps_head_and_tail_and_the_markers():
    words = " ".join(f"w{i}" for i in range(20))
    encoder = TextEncoder.fit([words], max_length=10, add_bos=True, add_eos=True, truncation="middle")
    ids = encoder.encode([words, "w1 w2"])
    # 8 words fit beside the markers: the first 2 (a quarter) and the last 6.
    assert encoder.decode(ids[0]) == "w0 w1 w14 w15 w16 w17 w18 w19"
    assert ids[0, 0] == encoder.vocabulary.bos_id and ids[0, -1] == encoder.vocabulary.eos_id
    assert encoder.decode(ids[1]) == "w1 w2"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(encoder))
    assert restored.truncation == "middle"
    np.testing.assert_array_equal(restored.encode([words]), ids[:1])
    with pytest.raises(ValueError, match="truncation"):
        TextEncoder.fit([words], truncation="start")
