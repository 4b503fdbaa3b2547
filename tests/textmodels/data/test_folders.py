"""read_class_folders from folders and zips (NLTK layout), every error, and the real movie_reviews.zip."""

import zipfile

import pytest

from textmodels.data.folders import read_class_folders
from textmodels.errors import DataError


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_folder_labels_by_sub_folder_and_ignores_other_files(tmp_path):
    files = [("pos", "b.txt", "great\n"), ("pos", "a.txt", "fine"), ("neg", "z.txt", "dull")]
    for label, name, text in files:
        (tmp_path / label).mkdir(exist_ok=True)
        (tmp_path / label / name).write_text(text)
    (tmp_path / "pos" / "notes.md").write_text("not a review")
    (tmp_path / "pos" / ".hidden.txt").write_text("editor swap file")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("not a class")
    (tmp_path / "README.txt").write_text("not in a class folder")
    data = read_class_folders(tmp_path)
    assert data.labels == ["neg", "pos", "pos"]
    assert data.texts == ["dull", "fine", "great"]


def test_zip_in_nltk_layout_is_read_without_extracting(tmp_path):
    archive = make_zip(
        tmp_path / "reviews.zip",
        {
            "reviews/README": "about",
            "reviews/pos/cv1.txt": "lovely",
            "reviews/neg/cv1.txt": "awful",
            "__MACOSX/reviews/pos/._cv1.txt": "resource fork",
        },
    )
    data = read_class_folders(archive)
    assert (data.texts, data.labels) == (["awful", "lovely"], ["neg", "pos"])
    assert list(tmp_path.iterdir()) == [archive]


def test_zip_with_class_folders_at_the_top(tmp_path):
    archive = make_zip(tmp_path / "r.zip", {"spam/1.txt": "buy", "ham/1.txt": "hi"})
    assert read_class_folders(archive).labels == ["ham", "spam"]


def test_other_suffix(tmp_path):
    archive = make_zip(tmp_path / "r.zip", {"a/1.md": "x", "a/2.txt": "ignored"})
    assert read_class_folders(archive, suffix=".md").texts == ["x"]


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="nope: no such folder or zip file"):
        read_class_folders(tmp_path / "nope")


def test_plain_file_is_neither_folder_nor_zip(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x")
    with pytest.raises(DataError, match="expected a folder of class folders or a zip"):
        read_class_folders(path)


def test_no_class_files(tmp_path):
    (tmp_path / "pos").mkdir()
    (tmp_path / "loose.txt").write_text("not in a class")
    with pytest.raises(DataError, match=r"no '<class>/\*.txt' files"):
        read_class_folders(tmp_path)


def test_empty_document_names_the_member(tmp_path):
    archive = make_zip(tmp_path / "r.zip", {"r/pos/1.txt": "fine", "r/neg/7.txt": "  \n"})
    with pytest.raises(DataError, match=r"r.zip\[r/neg/7.txt\]: empty document"):
        read_class_folders(archive)


def test_invalid_utf8_names_file_and_line(tmp_path):
    (tmp_path / "pos").mkdir()
    (tmp_path / "pos" / "1.txt").write_bytes(b"line one\ncaf\xe9\n")
    with pytest.raises(DataError, match=r"1.txt, line 2: byte offset 12 is not valid utf-8"):
        read_class_folders(tmp_path)
    assert read_class_folders(tmp_path, encoding="latin-1").texts == ["line one\ncafé"]


def test_class_folders_at_different_depths(tmp_path):
    archive = make_zip(tmp_path / "r.zip", {"a/pos/1.txt": "x", "b/c/neg/1.txt": "y"})
    with pytest.raises(DataError, match="different depths"):
        read_class_folders(archive)


def test_real_movie_reviews(shared_data):
    data = read_class_folders(shared_data / "nltk" / "movie_reviews.zip")
    assert data.labels.count("pos") == 1_000
    assert data.labels.count("neg") == 1_000
    assert len(data) == 2_000
    assert sum(map(len, data.texts)) > 1_000 * len(data)  # full reviews, not snippets
