"""read_lm_corpus / read_ptb / read_lm_lines: word and char levels, errors, and the real PTB and
tiny-shakespeare files."""

import pytest

from textmodels.data.errors import DataError
from textmodels.data.ptb import EOS, read_lm_corpus, read_lm_lines, read_ptb


def write(tmp_path, content, name="corpus.txt"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_word_level_ends_each_non_blank_line_with_eos(tmp_path):
    path = write(tmp_path, " the cat \r\n\n  \n sat down")
    assert read_lm_corpus(path) == ["the", "cat", EOS, "sat", "down", EOS]
    assert read_ptb(path) == read_lm_corpus(path, level="word")


def test_char_level_keeps_every_character(tmp_path):
    path = write(tmp_path, "Hé!\n\n")
    assert read_lm_corpus(path, level="char") == ["H", "é", "!", "\n", "\n"]


def test_lines(tmp_path):
    path = write(tmp_path, " first sentence \n\n\t\nsecond\n")
    assert read_lm_lines(path) == ["first sentence", "second"]


def test_unknown_level(tmp_path):
    with pytest.raises(ValueError, match="level must be 'word' or 'char'"):
        read_lm_corpus(write(tmp_path, "x"), level="byte")


@pytest.mark.parametrize("reader", [read_lm_corpus, read_ptb, read_lm_lines])
@pytest.mark.parametrize("content", ["", " \n\n\t"])
def test_empty_corpus(tmp_path, reader, content):
    with pytest.raises(DataError, match="corpus.txt: the corpus is empty"):
        reader(write(tmp_path, content))


@pytest.mark.parametrize("reader", [read_lm_corpus, read_lm_lines])
def test_invalid_utf8_names_byte_offset_and_line(tmp_path, reader):
    path = write(tmp_path, b"ok\nab\xff cd\n")
    with pytest.raises(DataError, match="corpus.txt, line 2: byte offset 5 is not valid utf-8"):
        reader(path)


def test_other_encoding(tmp_path):
    path = write(tmp_path, b"caf\xe9\n")
    assert read_lm_corpus(path, encoding="latin-1") == ["café", EOS]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="absent.txt: file not found"):
        read_ptb(tmp_path / "absent.txt")


def test_real_ptb(shared_data):
    path = shared_data / "ptb" / "ptb.train.txt"
    tokens = read_ptb(path)
    lines = read_lm_lines(path)
    # 887,521 words plus one <eos> per sentence line.
    assert tokens.count(EOS) == len(lines)
    assert len(tokens) - len(lines) == 887_521
    assert len(set(tokens)) == 10_000
    assert "<unk>" in tokens


def test_real_tiny_shakespeare(shared_data):
    characters = read_lm_corpus(shared_data / "tinyshakespeare" / "input.txt", level="char")
    assert len(characters) == 1_115_394
    assert len(set(characters)) == 65
