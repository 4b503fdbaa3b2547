"""Dataset readers: every reader returns plain Python/NumPy data and raises `DataError` naming the culprit."""

from textmodels.data.folders import read_class_folders
from textmodels.data.labeled_sources import read_labeled_source
from textmodels.data.labeled_texts import LabeledTexts
from textmodels.data.polarity import read_sentence_polarity
from textmodels.data.splits import kfold_indices, train_val_test_split
from textmodels.data.tables import read_sst2, read_table
from textmodels.data.text_files import read_corpus_text
from textmodels.data.tfds_text import load_tfds_text
from textmodels.data.treebank import read_treebank_pos, treebank_fileids
from textmodels.errors import CorpusError, DataError

__all__ = [
    "CorpusError",
    "DataError",
    "LabeledTexts",
    "kfold_indices",
    "load_tfds_text",
    "read_class_folders",
    "read_corpus_text",
    "read_labeled_source",
    "read_sentence_polarity",
    "read_sst2",
    "read_table",
    "read_treebank_pos",
    "train_val_test_split",
    "treebank_fileids",
]
