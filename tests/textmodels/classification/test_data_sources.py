"""read_labeled_source: every supported kind of labelled data, header guessing, multi-label cells, and errors."""

import zipfile

import pytest
import tensorflow_datasets as tfds

from textmodels.data import DataError, tfds_text
from textmodels.data.labeled_sources import read_labeled_source


def test_real_sst2_mr_and_movie_reviews(shared_data):
    sst2 = read_labeled_source(shared_data / "sst2" / "dev.tsv")
    assert len(sst2) == 872 and set(sst2.labels) == {"0", "1"}
    mr = read_labeled_source(shared_data / "nltk" / "sentence_polarity.zip")
    assert len(mr) == 10662 and mr.labels.count("pos") == 5331
    reviews = read_labeled_source(shared_data / "nltk" / "movie_reviews.zip")
    assert len(reviews) == 2000 and set(reviews.labels) == {"neg", "pos"}


def test_header_names_are_guessed_in_any_order(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("id,Category,Review\n1,pos,lovely film\n2,neg,dull\n")
    data = read_labeled_source(path)
    assert data.texts == ["lovely film", "dull"] and data.labels == ["pos", "neg"]


def test_headerless_table_uses_columns_zero_and_one_or_the_given_ones(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("pos\tlovely film\nneg\tdull\nneg\tbad\n")
    data = read_labeled_source(path, text_column=1, label_column=0, header=False)
    assert data.labels == ["pos", "neg", "neg"] and data.texts[0] == "lovely film"


def test_label_separator_makes_multilabel_targets(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("text,label\nscary and funny,horror| comedy\nsad,drama\n")
    assert read_labeled_source(path, label_separator="|").labels == [["horror", "comedy"], ["drama"]]


def test_class_folders_in_a_directory(tmp_path):
    for label, text in (("pos", "fine"), ("neg", "poor")):
        (tmp_path / label).mkdir()
        (tmp_path / label / "1.txt").write_text(text)
    assert sorted(read_labeled_source(tmp_path).labels) == ["neg", "pos"]


def test_tfds_source_goes_through_tensorflow_datasets(monkeypatch):
    monkeypatch.setattr(tfds_text, "require_network", lambda *args, **kwargs: None)
    with tfds.testing.mock_data(num_examples=5):
        data = read_labeled_source("tfds:glue/sst2:validation")
    assert len(data) == 5 and set(data.labels) <= {"negative", "positive"}


def test_errors_name_the_file_and_problem(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_labeled_source(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_labeled_source(empty)
    no_label = tmp_path / "nolabel.csv"
    no_label.write_text("text,score\ngood,5\n")
    with pytest.raises(DataError, match="not both a text and a label column"):
        read_labeled_source(no_label)
    missing_column = tmp_path / "named.csv"
    missing_column.write_text("text,label\ngood,pos\n")
    with pytest.raises(DataError, match="no label column 'polarity'"):
        read_labeled_source(missing_column, text_column="text", label_column="polarity")
    latin = tmp_path / "latin.tsv"
    latin.write_bytes(b"text\tlabel\nfine\tpos\ncaf\xe9\tneg\n")
    with pytest.raises(DataError, match=r"latin.tsv, line 3"):
        read_labeled_source(latin)
    assert read_labeled_source(latin, errors="replace").texts[1] == "caf\ufffd"
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.md", "nothing")
    with pytest.raises(DataError, match="no '<class>/\\*.txt' files"):
        read_labeled_source(archive)
