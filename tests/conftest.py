"""Shared fixtures: the local dataset folder and a quiet, deterministic Keras."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import pytest

from textmodels.data.paths import shared_data_dir


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="session")
def shared_data():
    """The local copies of public datasets; tests that need them skip when the folder is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("shared data folder not found (set RNN_DATA_DIR or place it at ../shared/data)")
    return path
