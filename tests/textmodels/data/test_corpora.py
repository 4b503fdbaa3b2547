"""Language-model corpora read from the real files: the Mikolov PTB split and tiny-shakespeare, as word and
character streams, plus a corpus in another encoding."""

from textmodels.data.text_files import read_corpus_text
from textmodels.language_model.encoding import encode_stream, fit_lm_encoder, text_tokens
from textmodels.text import EOS


def test_other_encoding(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"caf\xe9\n")
    assert read_corpus_text(path, encoding="latin-1") == "café\n"


def test_real_ptb_is_one_word_stream_with_eos_per_line(shared_data):
    text = read_corpus_text(shared_data / "ptb" / "ptb.train.txt")
    encoder = fit_lm_encoder(text)
    (tokens,) = text_tokens(text, encoder)
    lines = [line for line in text.split("\n") if line.strip()]
    # 887,521 words plus one <eos> per sentence line; the PTB vocabulary is exactly 10,000 words with <eos>.
    assert tokens.count(EOS) == len(lines)
    assert len(tokens) - len(lines) == 887_521
    assert len(set(tokens)) == 10_000
    # <unk> is a reserved token, so PTB's literal "<unk>" maps to it: 4 reserved ids + 9,998 other words.
    assert len(encoder.vocabulary) == 10_002
    ids = encode_stream(text, encoder)
    assert len(ids) == len(tokens) and int((ids == encoder.vocabulary.unk_id).sum()) == tokens.count("<unk>")


def test_real_tiny_shakespeare_char_stream(shared_data):
    text = read_corpus_text(shared_data / "tinyshakespeare" / "input.txt")
    encoder = fit_lm_encoder(text, level="char")
    assert len(encode_stream(text, encoder)) == 1_115_394
    assert len(encoder.vocabulary) == 65 + 4
