"""Text-classification datasets from tensorflow-datasets (``imdb_reviews``, ``glue/sst2``) as `LabeledTexts`.

tensorflow-datasets retries for minutes when offline, so a dataset that is not yet prepared in ``data_dir``
is only downloaded after a quick reachability check; offline, the error names the local alternative.

Example:
    >>> from textmodels.data.tfds_text import SUPPORTED_DATASETS
    >>> sorted(SUPPORTED_DATASETS)
    ['glue/sst2', 'imdb_reviews']
"""

from __future__ import annotations

from textmodels.data.labeled_texts import LabeledTexts
from textmodels.data.network import require_network
from textmodels.errors import DataError

# Which feature holds the text in each supported dataset; both keep the class in "label".
SUPPORTED_DATASETS = {"imdb_reviews": "text", "glue/sst2": "sentence"}
_DOWNLOAD_HOST = "storage.googleapis.com"
_LOCAL_ALTERNATIVES = {
    "imdb_reviews": "read_class_folders() on an extracted aclImdb/train folder without its unsup/ sub-folder",
    "glue/sst2": "read_sst2() on a local SST-2 train.tsv/dev.tsv",
}
# Unlabelled splits (GLUE test, IMDB "unsupervised") mark every example with this label.
_NO_LABEL = -1
_BATCH = 1024


def load_tfds_text(name: str, split: str, data_dir: str | None = None) -> LabeledTexts:
    """The ``split`` of tensorflow-datasets' ``name``, labels as the builder's class names (e.g. ``"pos"``).

    Downloads and prepares the dataset in ``data_dir`` (tfds' default when None) unless it is already there.

    Example (needs the dataset prepared or network access, hence skipped):
        >>> from textmodels.data.tfds_text import load_tfds_text
        >>> data = load_tfds_text("glue/sst2", "validation")  # doctest: +SKIP
        >>> len(data), sorted(set(data.labels))  # doctest: +SKIP
        (872, ['negative', 'positive'])
    """
    if name not in SUPPORTED_DATASETS:
        raise DataError(
            f"unsupported tensorflow-datasets name {name!r}; supported: {sorted(SUPPORTED_DATASETS)}"
        )
    import tensorflow_datasets as tfds

    if not tfds.builder(name, data_dir=data_dir).is_prepared():
        require_network(
            _DOWNLOAD_HOST,
            what=f"the {name} dataset",
            alternative=f"Pass a local file instead: {_LOCAL_ALTERNATIVES[name]}, or data_dir= a folder "
            f"where {name} is already prepared.",
        )
    dataset, info = tfds.load(name, split=split, data_dir=data_dir, with_info=True)
    class_names = info.features["label"].names
    text_feature = SUPPORTED_DATASETS[name]

    texts, labels = [], []
    for batch in tfds.as_numpy(dataset.batch(_BATCH)):
        if (batch["label"] == _NO_LABEL).any():
            raise DataError(f"{name} split {split!r} is unlabelled (label {_NO_LABEL}); use a labelled split")
        texts.extend(text.decode("utf-8") for text in batch[text_feature])
        labels.extend(class_names[label] for label in batch["label"])
    return LabeledTexts(texts=texts, labels=labels)
