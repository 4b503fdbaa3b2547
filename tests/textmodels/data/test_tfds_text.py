"""load_tfds_text through tensorflow-datasets' mock data (the real load path, offline), the network guard,
and bad input."""

import time

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from textmodels.data import network, tfds_text
from textmodels.data.tfds_text import load_tfds_text
from textmodels.errors import DataError


@pytest.fixture
def guard_calls(monkeypatch):
    """Records the reachability checks instead of probing the network (as if online)."""
    calls = []
    monkeypatch.setattr(tfds_text, "require_network", lambda host, **kwargs: calls.append((host, kwargs)))
    return calls


@pytest.mark.parametrize(
    ("name", "split", "label_names"),
    [("imdb_reviews", "train", {"neg", "pos"}), ("glue/sst2", "validation", {"negative", "positive"})],
)
def test_mock_data_runs_the_real_load_path(guard_calls, name, split, label_names):
    with tfds.testing.mock_data(num_examples=9):
        data = load_tfds_text(name, split)
    assert len(data) == 9
    assert set(data.labels) <= label_names
    assert all(isinstance(text, str) for text in data.texts)
    assert [host for host, _ in guard_calls] == ["storage.googleapis.com"]
    assert name in guard_calls[0][1]["what"]


def test_prepared_dataset_skips_the_guard(monkeypatch, tmp_path):
    monkeypatch.setattr(tfds_text, "require_network", lambda *args, **kwargs: pytest.fail("guard called"))
    monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared", lambda self: True)
    with tfds.testing.mock_data(num_examples=3):
        assert len(load_tfds_text("imdb_reviews", "test", data_dir=str(tmp_path))) == 3


def test_offline_fails_fast_with_the_local_alternative(monkeypatch, tmp_path):
    monkeypatch.setattr(network, "can_reach", lambda *args, **kwargs: False)
    monkeypatch.setattr(tfds, "load", lambda *args, **kwargs: pytest.fail("tfds.load must not run offline"))
    start = time.perf_counter()
    with pytest.raises(network.OfflineError) as error:
        load_tfds_text("glue/sst2", "train", data_dir=str(tmp_path))
    assert time.perf_counter() - start < 5
    assert "glue/sst2" in str(error.value)
    assert "read_sst2()" in str(error.value)


def test_unsupported_name():
    with pytest.raises(DataError, match=r"unsupported tensorflow-datasets name 'mnist'; supported: \["):
        load_tfds_text("mnist", "train")


def test_unlabelled_split_is_refused(guard_calls):
    def unlabelled(self, split, **kwargs):
        return tf.data.Dataset.from_tensor_slices({"text": [b"a", b"b"], "label": tf.constant([-1, -1], tf.int64)})

    with tfds.testing.mock_data(as_dataset_fn=unlabelled):
        with pytest.raises(DataError, match="imdb_reviews split 'unsupervised' is unlabelled"):
            load_tfds_text("imdb_reviews", "unsupervised")
