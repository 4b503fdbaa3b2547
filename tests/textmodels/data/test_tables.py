"""read_table / read_sst2: delimiters, columns, header detection and every error, plus the real SST-2."""

import pytest

from textmodels.data.tables import read_sst2, read_table
from textmodels.errors import DataError


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_named_columns_from_tsv_strip_cells_and_skip_blank_lines(tmp_path):
    path = write(tmp_path, "a.tsv", "label\ttext\n1\t a \"quoted\" film \n\n0\tdull\n")
    data = read_table(path)
    assert data.texts == ['a "quoted" film', "dull"]
    assert data.labels == ["1", "0"]


def test_csv_quoting_and_indices_without_header(tmp_path):
    path = write(tmp_path, "a.csv", 'pos,"good, really"\nneg,"multi\nline"\n')
    data = read_table(path, text_column=1, label_column=0, header=False)
    assert data.texts == ["good, really", "multi\nline"]
    assert data.labels == ["pos", "neg"]


def test_delimiter_sniffed_from_content_when_suffix_is_unknown(tmp_path):
    tabbed = write(tmp_path, "a.txt", "text\tlabel\nx, y\tpos\n")
    commas = write(tmp_path, "b.txt", "text,label\nx y,pos\n")
    assert read_table(tabbed).texts == ["x, y"]
    assert read_table(commas).texts == ["x y"]


def test_explicit_delimiter_overrides_suffix(tmp_path):
    path = write(tmp_path, "a.csv", "text;label\nfine;pos\n")
    assert read_table(path, delimiter=";").labels == ["pos"]


@pytest.mark.parametrize(
    ("content", "expected_texts"),
    [
        ("sentence,label\ngood,1\nbad,0\n", ["good", "bad"]),  # numeric labels under a word
        ("good,1\nbad,0\nok,1\n", ["good", "bad", "ok"]),  # no header at all
        ("review,verdict\na,yes\nb,no\nc,yes\nd,no\n", ["a", "b", "c", "d"]),  # unlike the repeating labels
        ("a,yes\nb,no\nc,yes\nd,no\n", ["a", "b", "c", "d"]),  # first label repeats below: data
        ("words,Label\nx,up\n", ["x"]),  # a header word
    ],
)
def test_auto_header_with_index_columns(tmp_path, content, expected_texts):
    path = write(tmp_path, "a.csv", content)
    assert read_table(path, text_column=0, label_column=1).texts == expected_texts


def test_explicit_header_flag_wins_over_detection(tmp_path):
    path = write(tmp_path, "a.csv", "good,1\nbad,0\n")
    assert read_table(path, 0, 1, header=True).texts == ["bad"]


def test_utf8_bom_does_not_hide_the_first_column_name(tmp_path):
    path = write(tmp_path, "a.csv", "\ufefftext,label\nhi,pos\n".encode("utf-8"))
    assert read_table(path).texts == ["hi"]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.tsv: file not found"):
        read_table(tmp_path / "nope.tsv")


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_empty_file(tmp_path, content):
    with pytest.raises(DataError, match="a.tsv: file is empty"):
        read_table(write(tmp_path, "a.tsv", content))


def test_header_only_file(tmp_path):
    with pytest.raises(DataError, match="no data rows"):
        read_table(write(tmp_path, "a.tsv", "text\tlabel\n"))


def test_missing_column_lists_the_available_ones(tmp_path):
    path = write(tmp_path, "a.tsv", "sentence\tlabel\nx\t1\n")
    expected = r"no text column 'text'; available columns: \['sentence', 'label'\]"
    with pytest.raises(DataError, match=expected):
        read_table(path)


def test_column_index_out_of_range(tmp_path):
    path = write(tmp_path, "a.csv", "x,1\n")
    with pytest.raises(DataError, match="label column index 5 is out of range; the first row has 2 columns"):
        read_table(path, text_column=0, label_column=5, header=False)


def test_named_columns_need_a_header(tmp_path):
    path = write(tmp_path, "a.csv", "text,label\nx,1\n")
    with pytest.raises(DataError, match="need a header row"):
        read_table(path, header=False)


def test_short_row_names_its_line(tmp_path):
    path = write(tmp_path, "a.tsv", "text\tlabel\ngood\t1\n\nno label here\n")
    expected = r"a.tsv, line 4: expected at least 2 fields separated by '\\t', found 1"
    with pytest.raises(DataError, match=expected):
        read_table(path)


def test_empty_label_names_its_line(tmp_path):
    path = write(tmp_path, "a.csv", "text,label\ngood,1\nbad, \n")
    with pytest.raises(DataError, match="a.csv, line 3: empty label"):
        read_table(path)


def test_invalid_utf8_names_the_line_and_replace_reads_it(tmp_path):
    path = write(tmp_path, "a.tsv", b"text\tlabel\nfine\t1\ncaf\xe9\t0\n")
    expected = r"a.tsv, line 3: byte offset \d+ is not valid utf-8.*errors='replace'"
    with pytest.raises(DataError, match=expected):
        read_table(path)
    assert read_table(path, errors="replace").texts == ["fine", "caf\ufffd"]
    assert read_table(path, encoding="latin-1").texts == ["fine", "café"]


def test_invalid_header_flag(tmp_path):
    with pytest.raises(ValueError, match="header must be"):
        read_table(write(tmp_path, "a.csv", "text,label\nx,1\n"), header="yes")


def test_read_sst2_small_file(tmp_path):
    path = write(tmp_path, "dev.tsv", "sentence\tlabel\nit 's \" fun \" . \t1\n")
    data = read_sst2(path)
    assert (data.texts, data.labels) == (["it 's \" fun \" ."], ["1"])


def test_real_sst2(shared_data):
    train = read_sst2(shared_data / "sst2" / "train.tsv")
    dev = read_sst2(shared_data / "sst2" / "dev.tsv")
    assert len(train) == 67_349
    assert len(dev) == 872
    assert set(train.labels) == set(dev.labels) == {"0", "1"}
    assert all(text and text == text.strip() for text in train.texts)
    # The same file by index with header detection must agree with the named read.
    assert read_table(shared_data / "sst2" / "dev.tsv", text_column=0, label_column=1) == dev
