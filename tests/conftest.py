"""Shared fixtures (the local dataset folder and a quiet, deterministic Keras) and the quick tier's rule for the
docstring examples that train whole models (`SLOW_DOCTESTS`, marked ``slow`` like the slow tests)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import pytest
from _pytest.doctest import DoctestItem

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


# Docstring examples that train and score whole models (tens of seconds each): run by `./run test`, left out of
# the quick tier (`-m "not slow"`) with the tests marked slow.
SLOW_DOCTESTS = {"captioner.demo", "captioner.photo_demo.train_photo_captioner"}


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, DoctestItem) and item.name in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """One tiny model of each kind for the bad-input cases (`bad_input.TinyModels`), built on first use."""
    from bad_input import TinyModels

    return TinyModels(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def world(tiny_models, tmp_path_factory):
    """What a bad-input case acts on (`bad_input.World`): the tiny models and this module's scratch folder."""
    from bad_input import World

    return World(tmp_path_factory.mktemp("scratch"), tiny_models)
