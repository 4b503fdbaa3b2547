"""read_treebank_pos / treebank_fileids through NLTK's reader: zips, folders, the NLTK data path, offline
downloads, errors, and the real treebank sample."""

import time
import zipfile

import nltk
import pytest

from textmodels.data import network
from textmodels.data.treebank import read_treebank_pos, treebank_fileids
from textmodels.errors import DataError

PARSES = {
    "wsj_0001.mrg": "( (S (NP-SBJ (NNP Pierre) (NNP Vinken)) (VP (VBD joined) (NP (-NONE- *T*-1))) (. .)) )\n"
    "( (S (NP-SBJ (PRP He)) (VP (VBZ is) (ADJP (JJ old))) (. .)) )\n",
    "wsj_0002.mrg": "( (S (NP-SBJ (-NONE- *)) (VP (VB Go)) (. !)) )\n",
}


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.fixture
def treebank_zip(tmp_path):
    members = {f"treebank/combined/{name}": text for name, text in PARSES.items()}
    members["treebank/combined/README"] = "not a parse"
    members["treebank/tagged/wsj_0001.pos"] = "[ Pierre/NNP ]"
    return make_zip(tmp_path / "treebank.zip", members)


def test_tagged_sentences_without_traces(treebank_zip):
    sentences = read_treebank_pos(treebank_zip)
    assert sentences == [
        [("Pierre", "NNP"), ("Vinken", "NNP"), ("joined", "VBD"), (".", ".")],
        [("He", "PRP"), ("is", "VBZ"), ("old", "JJ"), (".", ".")],
        [("Go", "VB"), ("!", ".")],
    ]


def test_fileids_select_held_out_files(treebank_zip):
    fileids = treebank_fileids(treebank_zip)
    assert fileids == ["wsj_0001.mrg", "wsj_0002.mrg"]
    assert read_treebank_pos(treebank_zip, fileids=fileids[1:]) == [[("Go", "VB"), ("!", ".")]]


def test_reading_leaves_nltk_data_path_as_it_was(treebank_zip):
    before = list(nltk.data.path)
    read_treebank_pos(treebank_zip)
    assert nltk.data.path == before


@pytest.mark.parametrize("layout", ["treebank/combined", "combined", ""])
def test_extracted_folders(tmp_path, layout):
    folder = tmp_path / layout if layout else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PARSES.items():
        (folder / name).write_text(text)
    assert len(read_treebank_pos(tmp_path)) == 3


def test_unknown_fileids(treebank_zip):
    with pytest.raises(DataError, match=r"unknown fileids \['wsj_9999.mrg'\]"):
        read_treebank_pos(treebank_zip, fileids=["wsj_0001.mrg", "wsj_9999.mrg"])


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="no such treebank zip or folder"):
        read_treebank_pos(tmp_path / "absent.zip")


def test_zip_without_parses(tmp_path):
    archive = make_zip(tmp_path / "t.zip", {"treebank/tagged/wsj_0001.pos": "[ a/DT ]"})
    with pytest.raises(DataError, match="holds no .mrg parse files"):
        treebank_fileids(archive)


def test_folder_without_parses(tmp_path):
    with pytest.raises(DataError, match="no wsj_\\*.mrg files"):
        read_treebank_pos(tmp_path)


def test_plain_file(tmp_path):
    path = tmp_path / "wsj_0001.mrg"
    path.write_text(PARSES["wsj_0001.mrg"])
    with pytest.raises(DataError, match="expected NLTK's treebank.zip"):
        read_treebank_pos(path)


def test_malformed_parse_names_the_file(tmp_path):
    archive = make_zip(tmp_path / "t.zip", {"treebank/combined/wsj_0003.mrg": "hello world\n"})
    with pytest.raises(DataError, match="wsj_0003.mrg: no tagged sentences"):
        read_treebank_pos(archive)


def test_no_path_uses_installed_nltk_data(tmp_path, treebank_zip, monkeypatch):
    corpora = tmp_path / "nltk_data" / "corpora"
    corpora.mkdir(parents=True)
    (corpora / "treebank.zip").write_bytes(treebank_zip.read_bytes())
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nltk_data")])
    monkeypatch.setattr(nltk, "download", lambda *args, **kwargs: pytest.fail("must not download"))
    assert treebank_fileids() == ["wsj_0001.mrg", "wsj_0002.mrg"]
    assert len(read_treebank_pos()) == 3


def test_no_path_offline_fails_fast_naming_the_local_zip(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(network, "can_reach", lambda *args, **kwargs: False)
    monkeypatch.setattr(nltk, "download", lambda *args, **kwargs: pytest.fail("must not download"))
    start = time.perf_counter()
    with pytest.raises(network.OfflineError, match="treebank.*raw.githubusercontent.com.*treebank.zip"):
        read_treebank_pos()
    assert time.perf_counter() - start < 3


def test_real_treebank_sample(shared_data):
    archive = shared_data / "nltk" / "treebank.zip"
    fileids = treebank_fileids(archive)
    held_out = read_treebank_pos(archive, fileids=fileids[-20:])
    training = read_treebank_pos(archive, fileids=fileids[:-20])
    assert len(fileids) == 199
    assert 3_800 <= len(training) + len(held_out) <= 4_000
    assert 0 < len(held_out) < len(training)
    tags = {tag for sentence in training + held_out for _, tag in sentence}
    assert "-NONE-" not in tags
    assert {"NN", "NNP", "VBD", "DT", "IN"} <= tags
