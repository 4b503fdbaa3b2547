"""Language-model batching: TBPTT stream windows, sentences, tokenization and bad corpora."""

from __future__ import annotations

import numpy as np
import pytest

from textmodels.data.lm_batches import sentence_pairs, stream_windows
from textmodels.data.text_files import read_corpus_text
from textmodels.errors import CorpusError, DataError
from textmodels.language_model.encoding import encode_sentences, encode_stream, fit_lm_encoder, text_tokens


def test_consecutive_batches_continue_every_stream():
    ids = np.arange(1, 104)
    batch_size, num_steps = 4, 5
    x, y = stream_windows(ids, batch_size, num_steps)
    windows = len(x) // batch_size
    assert windows == (len(ids) - 1) // batch_size // num_steps
    for stream in range(batch_size):
        rows = [window * batch_size + stream for window in range(windows)]
        inputs, targets = np.concatenate(x[rows]), np.concatenate(y[rows])
        # Each stream is one contiguous slice of the corpus, and targets are inputs shifted by one token.
        assert np.array_equal(np.diff(inputs), np.ones(len(inputs) - 1))
        assert np.array_equal(targets, inputs + 1)
    # Streams cover disjoint, consecutive parts of the corpus, in order.
    firsts = x[:batch_size, 0]
    assert np.all(np.diff(firsts) == (len(ids) - 1) // batch_size)


def test_corpus_shorter_than_one_window_is_a_clear_error():
    with pytest.raises(CorpusError, match=r"shorter than one window.*4 x 5 \+ 1 = 21"):
        stream_windows(np.arange(20), batch_size=4, num_steps=5)
    x, _ = stream_windows(np.arange(21), batch_size=4, num_steps=5)
    assert x.shape == (4, 5)


def test_word_stream_ends_lines_with_eos_and_keeps_ptb_unk():
    encoder = fit_lm_encoder(" the <unk> fell \n\n it rose \n")
    assert text_tokens(" the <unk> fell \n\n it rose \n", encoder) == [
        ["the", "<unk>", "fell", "<eos>", "it", "rose", "<eos>"]
    ]
    ids = encode_stream("the <unk> zebra\n", encoder)
    vocabulary = encoder.vocabulary
    assert ids.tolist() == [vocabulary["the"], vocabulary.unk_id, vocabulary.unk_id, vocabulary.eos_id]
    assert "<unk>" not in vocabulary.tokens[4:] and "<eos>" not in vocabulary.tokens[4:]


def test_char_stream_keeps_every_character():
    encoder = fit_lm_encoder("ab a\nb", level="char")
    ids = encode_stream("ab a\nb", encoder)
    assert encoder.decode(ids) == "ab a\nb"


def test_sentences_are_wrapped_padded_and_shifted():
    encoder = fit_lm_encoder("a b c\nb\n", regime="sentences")
    sentences = encode_sentences("a b c\n\nb\n", encoder)
    vocabulary = encoder.vocabulary
    assert sentences.shape == (2, 5)
    assert sentences[1].tolist() == [vocabulary.bos_id, vocabulary["b"], vocabulary.eos_id, 0, 0]
    x, y = sentence_pairs(sentences)
    assert np.array_equal(x[:, 1:], y[:, :-1])
    assert encode_sentences("a b c\n", encoder, max_length=3).shape == (1, 3)


@pytest.mark.parametrize("content", [b"", b"  \n\n \t\n"])
def test_empty_corpus_is_rejected(tmp_path, content):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match="corpus.txt: the corpus is empty"):
        read_corpus_text(path)


def test_non_utf8_names_line_and_byte_offset_or_is_replaced(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("first line\nna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.txt, line 2: byte offset 13 is not valid utf-8"):
        read_corpus_text(path)
    assert read_corpus_text(path, errors="replace") == "first line\nna\ufffdve\n"


def test_missing_corpus_file(tmp_path):
    with pytest.raises(DataError, match="nope.txt: file not found"):
        read_corpus_text(tmp_path / "nope.txt")


def test_vocabulary_options_map_rare_tokens_to_unk():
    encoder = fit_lm_encoder("a a a b b c\n", min_count=2)
    assert encoder.vocabulary.tokens[4:] == ["a", "b"]
    assert encode_stream("c\n", encoder).tolist() == [encoder.vocabulary.unk_id, encoder.vocabulary.eos_id]
    with pytest.raises(ValueError, match="Unknown level 'byte'; valid levels: word, char"):
        fit_lm_encoder("a\n", level="byte")
