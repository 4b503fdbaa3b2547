"""read_sentence_polarity from folders and zips, every error, and the real NLTK sentence_polarity.zip."""

import zipfile

import pytest

from textmodels.data.polarity import read_sentence_polarity
from textmodels.errors import DataError


def write_pair(folder, pos=b"a gem\n\ncaf\xe9 society\n", neg=b"a mess\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rt-polarity.pos").write_bytes(pos)
    (folder / "rt-polarity.neg").write_bytes(neg)


def test_folder_reads_latin1_and_skips_blank_lines(tmp_path):
    write_pair(tmp_path)
    data = read_sentence_polarity(tmp_path)
    assert data.texts == ["a gem", "café society", "a mess"]
    assert data.labels == ["pos", "pos", "neg"]


def test_folder_with_nltk_sub_folder(tmp_path):
    write_pair(tmp_path / "sentence_polarity")
    assert len(read_sentence_polarity(tmp_path)) == 3


def test_zip(tmp_path):
    archive = tmp_path / "sentence_polarity.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("sentence_polarity/README.txt", "about")
        zipped.writestr("sentence_polarity/rt-polarity.pos", b"fun\nsmart\n")
        zipped.writestr("sentence_polarity/rt-polarity.neg", b"dull\n")
    data = read_sentence_polarity(archive)
    assert (data.texts, data.labels) == (["fun", "smart", "dull"], ["pos", "pos", "neg"])


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="no such folder or zip file"):
        read_sentence_polarity(tmp_path / "absent")


def test_folder_without_the_files_lists_what_it_holds(tmp_path):
    (tmp_path / "rt-polarity.pos").write_text("x")
    with pytest.raises(DataError, match=r"not found; the folder holds \['rt-polarity.pos'\]"):
        read_sentence_polarity(tmp_path)


def test_zip_missing_a_file(tmp_path):
    archive = tmp_path / "sp.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("sp/rt-polarity.pos", b"fun\n")
    with pytest.raises(DataError, match=r"sp.zip: \['rt-polarity.neg'\] not in the zip"):
        read_sentence_polarity(archive)


def test_empty_file(tmp_path):
    write_pair(tmp_path, neg=b"\n \n")
    with pytest.raises(DataError, match="rt-polarity.neg holds no snippets"):
        read_sentence_polarity(tmp_path)


def test_plain_file(tmp_path):
    path = tmp_path / "rt-polarity.pos"
    path.write_text("x")
    with pytest.raises(DataError, match="expected a folder or a zip"):
        read_sentence_polarity(path)


def test_real_sentence_polarity(shared_data):
    data = read_sentence_polarity(shared_data / "nltk" / "sentence_polarity.zip")
    assert data.labels.count("pos") == 5_331
    assert data.labels.count("neg") == 5_331
    assert all(text for text in data.texts)
