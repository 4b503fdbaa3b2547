"""Train a captioner with teacher forcing: on cached image features (fast) or end to end from pixels.

Every image is one example with all its reference captions (each image is encoded once per step); for each
caption the decoder reads ``<bos> w_1 .. w_n`` and is scored on
``w_1 .. w_n <eos>`` with a cross-entropy that ignores padding (``ignore_class=0``). Gradients are clipped by
global norm (`textmodels.training.make_optimizer`). With a run folder (or an ``out`` file to put one beside),
training goes through `textmodels.training.train_in_run`: ``last.keras``/``best.keras`` after every epoch,
``resume=True`` continues, early stopping on ``val_loss``, no continuing after a NaN loss, the best epoch copied to
``out``; TensorBoard logs go to ``<run folder>/logs``.

Example:
    >>> import tempfile
    >>> from captioner.config import CaptionerConfig
    >>> from captioner.data import make_synthetic, read_coco
    >>> folder = tempfile.mkdtemp()
    >>> records = read_coco(make_synthetic(folder, num_images=20, image_size=16), folder)
    >>> config = CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8, units=8, embedding_dim=4,
    ...                          epochs=1, min_count=1)
    >>> result = train_captioner(records, config, verbose=0)
    >>> len(result.history["loss"])
    1
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np

from captioner.config import CaptionerConfig
from captioner.data.images import ImageLoadError, load_images
from captioner.data.pipeline import caption_batches
from captioner.data.records import CaptionRecord
from captioner.decoder import FEATURE_NORMALIZATIONS
from captioner.decoding_settings import DecodingSettings
from captioner.encoder import FeatureCacheError, encoder_config, read_features
from captioner.encoder.concept_pretraining import ConceptPretraining, pretrain_on_concepts
from captioner.errors import CaptionDataError
from captioner.model import CaptionModel, fit_caption_vocabulary
from textmodels.errors import (
    DROPOUT_RATE,
    INTEGER,
    NON_NEGATIVE_INT,
    OPEN_FRACTION,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    ConfigurationError,
    check,
    check_all,
    check_choice,
)
from textmodels.training import train_in_run


@dataclass
class TrainingResult:
    """The trained model and its per-epoch metrics (``loss``, ``val_loss`` when there is a validation split; in
    a run folder, those of the whole run, resumed epochs included); with ``out``, where the best epoch was copied,
    from which checkpoint (``source``), and how many epochs the run had before this call (``resumed_after``).

    Example:
        >>> TrainingResult(model=None, history={"loss": [2.0]}).history["loss"]
        [2.0]
    """

    model: CaptionModel
    history: dict
    out: Path | None = None
    source: Path | None = None
    resumed_after: int = 0
    # What concept pretraining did, when ``concept_epochs`` ran it in this call.
    concept_pretraining: ConceptPretraining | None = None


def config_encoder(config: CaptionerConfig) -> dict:
    """The encoder description of ``config`` (see `captioner.encoder.encoder_config`).

    Example:
        >>> config_encoder(CaptionerConfig(encoder="mobilenet_v2"))["feature_dim"]
        1280
    """
    return encoder_config(config.encoder, image_size=config.image_size, conv_filters=config.conv_filters,
                          feature_dim=config.feature_dim, weights=config.weights,
                          feature_activation=config.feature_activation)


def build_captioner(train_records: Sequence[CaptionRecord], config: CaptionerConfig) -> CaptionModel:
    """A new, untrained captioner whose vocabulary comes from the captions of ``train_records``.

    Example:
        >>> from pathlib import Path
        >>> records = [CaptionRecord("1", Path("a.png"), "train", ("a red circle", "a red square"))]
        >>> model = build_captioner(records, CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8,
        ...                                                  min_count=1))
        >>> model.text_encoder.vocabulary.tokens[4]
        'a'
    """
    if not train_records:
        raise CaptionDataError("No training images: the data has no record in the 'train' split.")
    text_encoder = fit_caption_vocabulary(
        [caption for record in train_records for caption in record.captions],
        min_count=config.min_count, max_length=config.max_length,
    )
    return CaptionModel.create(
        text_encoder, config_encoder(config), embedding_dim=config.embedding_dim, units=config.units,
        cell=config.cell, layers=config.layers, inject=config.inject, dropout=config.dropout,
        image_blind=config.image_blind, train_encoder=config.train_encoder,
        feature_normalization=config.feature_normalization, decoding=DecodingSettings(beam_size=config.beam_size),
    )


def caption_examples(records: Sequence[CaptionRecord], model: CaptionModel) -> np.ndarray:
    """``(len(records), K, max_length + 2)`` caption ids, K = the most captions any image has.

    Images with fewer captions get all-padding rows, which the loss ignores. Training on all captions of an
    image at once encodes each image once per epoch instead of once per caption.

    Example:
        >>> from pathlib import Path
        >>> records = [CaptionRecord("1", Path("a.png"), "train", ("a cat", "the cat")),
        ...            CaptionRecord("2", Path("b.png"), "train", ("a cat",))]
        >>> model = build_captioner(records, CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8,
        ...                                                  min_count=1))
        >>> ids = caption_examples(records, model)
        >>> ids.shape[:2], int(ids[1, 1].max())
        ((2, 2), 0)
    """
    per_image = max((len(record.captions) for record in records), default=1)
    ids = np.zeros((len(records), per_image, model.text_encoder.max_length), dtype=np.int32)
    for row, record in enumerate(records):
        ids[row, : len(record.captions)] = model.text_encoder.encode(list(record.captions))
    return ids


def training_inputs(records: Sequence[CaptionRecord], model: CaptionModel, features=None):
    """``(kept_records, inputs, image_size)`` for `captioner.data.pipeline.caption_batches`.

    From pixels, ``inputs`` are the photos' paths (decoded batch by batch) and ``image_size`` the encoder's
    input size; from cached ``features`` (a mapping or a `FeatureCache`), ``inputs`` is their array and
    ``image_size`` None. Records whose image has no cached features (unreadable at extraction) are left out
    with a warning that counts them.

    Example:
        >>> from pathlib import Path
        >>> records = [CaptionRecord("1", Path("a.png"), "train", ("a cat",)),
        ...            CaptionRecord("2", Path("b.png"), "train", ("a dog",))]
        >>> model = build_captioner(records, CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8,
        ...                                                  min_count=1))
        >>> kept, inputs, image_size = training_inputs(records, model)
        >>> [str(path) for path in inputs], image_size
        (['a.png', 'b.png'], (16, 16))
    """
    if model.image_blind:
        # The blind model ignores its input; a one-number placeholder per image keeps the pipeline uniform.
        return list(records), np.zeros((len(records), 1), np.float32), None
    if features is None:
        return list(records), [record.image_path for record in records], model.image_size
    # A FeatureCache knows ids whose features are not stored (yet): those count as missing too.
    unfinished = set(features.missing_ids()) if hasattr(features, "missing_ids") else set()
    kept = [record for record in records if record.image_id in features and record.image_id not in unfinished]
    if len(kept) < len(records):
        kept_ids = {record.image_id for record in kept}
        missing = [record.image_id for record in records if record.image_id not in kept_ids]
        if not kept:
            raise FeatureCacheError(f"None of the {len(records)} images has cached features (e.g. {missing[0]!r}).")
        warnings.warn(
            f"{len(missing)} of {len(records)} images have no cached features and are left out, e.g. "
            f"{missing[0]!r} (unreadable photos; or the extraction was interrupted: running "
            "`captioner extract-features` again finishes it).",
            stacklevel=2,
        )
    array = read_features(features, [record.image_id for record in kept])
    if array.shape[1] != model.feature_dim:
        raise CaptionDataError(
            f"Cached features have {array.shape[1]} dimensions, the model expects {model.feature_dim}."
        )
    return kept, array, None


def _batches(inputs, model, batch_size, *, shuffle, seed, unreadable):
    kept, inputs, image_size = inputs
    return caption_batches(inputs, caption_examples(kept, model), batch_size, shuffle=shuffle, seed=seed,
                           image_size=image_size, unreadable=unreadable)


# Photos whose features give a frozen encoder's statistics when training end to end (cached features use all).
STATISTICS_PHOTOS = 256


def adapt_feature_statistics(model: CaptionModel, inputs, image_size) -> None:
    """Stores the training photos' feature mean and spread in the decoder (see `CaptionDecoder.adapt_features`).

    ``inputs`` and ``image_size`` are those of `training_inputs`: cached features are used whole; from pixels, a
    frozen encoder's features of the first `STATISTICS_PHOTOS` readable photos. An encoder that is trained with
    the decoder changes its features as it learns, so there the decoder keeps the identity.
    """
    if model.image_blind or (image_size is not None and model.train_encoder):
        return
    if image_size is not None:
        images, errors = load_images(list(dict.fromkeys(inputs))[:STATISTICS_PHOTOS], size=image_size)
        inputs = model.encode_images(np.delete(images, list(errors), axis=0))
        if not len(inputs):
            return
    model.decoder.adapt_features(inputs)


class EpochScalars(keras.callbacks.Callback):
    """Writes each epoch's metrics as TensorBoard scalars (``train/`` and ``validation/`` runs, ``epoch_*`` tags)
    with TensorFlow's own summary writer, so logs are written even where the ``tensorboard`` package is absent.

    Example:
        >>> import tempfile
        >>> callback = EpochScalars(tempfile.mkdtemp())
        >>> callback.on_epoch_end(0, {"loss": 1.5, "val_loss": 1.7})
    """

    def __init__(self, log_dir: str | Path):
        super().__init__()
        self.log_dir = Path(log_dir)
        self._writers = {}

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf
        from tensorflow.core.framework import summary_pb2

        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
        ).SerializeToString()
        for key, value in (logs or {}).items():
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            if run not in self._writers:
                self._writers[run] = tf.summary.create_file_writer(str(self.log_dir / run))
            with self._writers[run].as_default():
                tf.summary.write(f"epoch_{name}", tf.constant(float(value)), step=epoch, metadata=metadata)
            self._writers[run].flush()


def tensorboard_callback(log_dir: str | Path) -> keras.callbacks.Callback:
    """Keras' `TensorBoard` callback when the ``tensorboard`` package is installed, else `EpochScalars`.

    Example:
        >>> import tempfile
        >>> isinstance(tensorboard_callback(tempfile.mkdtemp()), keras.callbacks.Callback)
        True
    """
    try:
        import tensorboard  # noqa: F401 - Keras' callback needs its summary implementation
    except ImportError:
        return EpochScalars(log_dir)
    return keras.callbacks.TensorBoard(log_dir=str(log_dir))


def compile_captioner(model: CaptionModel, config: CaptionerConfig) -> None:
    """Adam (or ``config.optimizer``) with global-norm clipping and the padding-masked cross-entropy.

    Example:
        >>> from pathlib import Path
        >>> config = CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8, min_count=1)
        >>> model = build_captioner([CaptionRecord("1", Path("a.png"), "train", ("a cat",))], config)
        >>> compile_captioner(model, config)
        >>> float(model.optimizer.global_clipnorm)
        5.0
    """
    from textmodels.training import make_optimizer

    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate, config.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )


def check_config(config: CaptionerConfig) -> None:
    """`textmodels.errors.ConfigurationError` naming the first setting of ``config`` out of its range, before
    any data is read or model built.

    Example:
        >>> try:
        ...     check_config(CaptionerConfig(epochs=0))
        ... except ValueError as error:
        ...     print(error)
        epochs must be a positive integer, got 0.
    """
    check_all(POSITIVE_INT, image_size=config.image_size, feature_dim=config.feature_dim, units=config.units,
              embedding_dim=config.embedding_dim, layers=config.layers, min_count=config.min_count,
              max_length=config.max_length, batch_size=config.batch_size, epochs=config.epochs,
              lr_reduce_patience=config.lr_reduce_patience, beam_size=config.beam_size)
    for filters in config.conv_filters:
        check("conv_filters", filters, POSITIVE_INT)
    check_all(POSITIVE_NUMBER, optional=True, learning_rate=config.learning_rate, clipnorm=config.clipnorm)
    check("lr_reduce_factor", config.lr_reduce_factor, OPEN_FRACTION, optional=True)
    check("patience", config.patience, NON_NEGATIVE_INT, optional=True)
    check("dropout", config.dropout, DROPOUT_RATE)
    check_choice("feature_normalization", config.feature_normalization, FEATURE_NORMALIZATIONS)
    check("seed", config.seed, INTEGER)
    check("concept_epochs", config.concept_epochs, NON_NEGATIVE_INT)
    if config.concept_epochs and (config.encoder != "small" or config.image_blind):
        what = "the image-blind baseline has no encoder" if config.image_blind else (
            f"the {config.encoder} encoder comes pretrained")
        raise ConfigurationError(f"concept_epochs={config.concept_epochs} pretrains the small encoder; {what}.")


def train_captioner(
    records: Sequence[CaptionRecord],
    config: CaptionerConfig,
    *,
    features: Mapping | None = None,
    run_dir: str | Path | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    verbose: int | str = "auto",
    distribution=None,
) -> TrainingResult:
    """Train on the ``train`` records, validate on the ``val`` ones; return the model and its history.

    With ``run_dir`` or ``out``, training goes through `textmodels.training.train_in_run`, like every model's:
    ``last.keras``/``best.keras``/``state.json`` after every epoch in ``run_dir`` (default: ``out`` with
    ``.keras`` replaced by ``.run``), TensorBoard logs in its ``logs`` folder, ``resume=True`` continues the
    interrupted run there, and the best epoch (lowest ``val_loss``, else ``loss``) is copied to ``out``. Without
    either, the model is trained in memory only (the best epoch's weights restored when early stopping ends it).

    Args:
        records: all records; the ``split`` field picks training (``train``, ``restval``) and validation data.
        config: the `CaptionerConfig`.
        features: ``{image_id: vector}`` or a complete `captioner.encoder.FeatureCache` to train the decoder on
            cached features; None trains end to end from pixels (``config.train_encoder`` says whether the
            encoder learns too; ``config.concept_epochs`` first pretrains a new run's small encoder with
            `captioner.encoder.concept_pretraining`).
        run_dir: the run folder.
        out: the ``.keras`` file that receives the best epoch.
        resume: continue the run saved in the run folder.
        distribution: a `textmodels.training.distribution.Distribution` or its name (``"mirrored"``,
            ``"multi-worker"``, ``"data-parallel"``): the model is built and trained under it, ``batch_size``
            is the global batch, and workers other than the chief keep their checkpoints in a private temporary
            folder and leave ``out`` to the chief.
    """
    from textmodels.training.distribution import as_distribution

    distribution = as_distribution(distribution)
    check_config(config)
    if config.concept_epochs and features is not None:
        raise ConfigurationError(
            "concept_epochs pretrains the encoder on photos, but cached features bypass it: train from the photos "
            "(no features), or set concept_epochs=0."
        )
    keras.utils.set_random_seed(config.seed)
    train = [record for record in records if record.split in ("train", "restval")]
    val = [record for record in records if record.split == "val"]
    monitor = "val_loss" if val else "loss"
    unreadable: dict[str, str] = {}
    inputs = {}
    concept_pretraining: ConceptPretraining | None = None  # set by prepare() when it pretrains the encoder

    def inputs_of(split_records, model, split):  # read once: the feature cache may be large
        if split not in inputs:
            inputs[split] = training_inputs(split_records, model, features)
        return inputs[split]

    def prepare(restored):
        """The restored model, or a new one with the training photos' feature statistics."""
        nonlocal concept_pretraining
        if restored is not None:
            return restored
        # Cached features bypass the encoder: freezing it spares the optimizer state of weights that get no
        # gradient (for VGG16, twice its 134M parameters).
        with distribution.scope():
            model = build_captioner(train, config if features is None else replace(config, train_encoder=False))
            if config.concept_epochs:
                concept_pretraining = pretrain_on_concepts(model.encoder, train, val, epochs=config.concept_epochs,
                                                           seed=config.seed, verbose=verbose, unreadable=unreadable)
            compile_captioner(model, config)
        if model.decoder.uses_statistics:
            adapt_feature_statistics(model, *inputs_of(train, model, "train")[1:])
        return model

    def fit(model, callbacks, run=None):
        train_data = _batches(inputs_of(train, model, "train"), model, config.batch_size, shuffle=True,
                              seed=config.seed, unreadable=unreadable)
        val_data = None
        if val:
            val_data = _batches(inputs_of(val, model, "val"), model, config.batch_size, shuffle=False, seed=0,
                                unreadable=unreadable)
        callbacks = list(callbacks)
        if run is not None:
            callbacks.append(tensorboard_callback(run.directory / "logs"))
        if config.lr_reduce_factor is not None:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=config.lr_reduce_factor,
                                                               patience=config.lr_reduce_patience, verbose=0))
        # shuffle=False: the tf.data pipeline already reshuffles every epoch.
        return distribution.fit(model, train_data, validation_data=val_data, epochs=config.epochs,
                                initial_epoch=run.initial_epoch if run is not None else 0, shuffle=False,
                                callbacks=callbacks, verbose=verbose)

    if run_dir is None and out is None:
        if resume:
            raise ValueError("resume=True needs run_dir (the folder of the run to continue).")
        early_stopping = [] if config.patience is None else [keras.callbacks.EarlyStopping(
            monitor=monitor, patience=config.patience, restore_best_weights=True)]
        model = prepare(None)
        result = TrainingResult(model, dict(fit(model, early_stopping).history))
    else:
        trained = train_in_run(run_dir, prepare, fit, model_classes=[CaptionModel], what="a captioner",
                               epochs=config.epochs, out=out, resume=resume, monitor=monitor,
                               patience=config.patience, distribution=distribution)
        result = TrainingResult(trained.model, dict(trained.run.state["history"]), trained.out, trained.source,
                                trained.resumed_after)
    result.concept_pretraining = concept_pretraining
    if unreadable:
        first = next(iter(unreadable.values()))
        if features is None and not result.model.image_blind and {str(r.image_path) for r in train} <= set(unreadable):
            raise ImageLoadError(f"None of the {len(train)} training photos could be read, e.g. {first}")
        warnings.warn(f"{len(unreadable)} photo(s) could not be read and were skipped, e.g. {first}", stacklevel=2)
    return result
