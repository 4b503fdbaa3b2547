"""Teaching the small encoder to see before it learns to caption: which words its photos' captions use.

Why, measured (benchmarks/README.md, "The small CNN taught concepts first"): trained end to end from random
weights on Flickr8k's 6,000 photos, the small VGG-style CNN learns almost nothing about the photo (validation
loss 2.828 against the image-blind model's 2.836) and the captioner says the blind model's one sentence for every
photo. Its only teacher is the caption loss, which reaches it through the image's share of one step's
pre-activation, the step where every caption starts alike. A direct target for every photo, the most frequent
content words of its captions as a multi-label problem ("visual concepts", Fang et al. 2015), gives it
hundreds of signals per photo; the captioner then starts from the trained encoder.

Example:
    >>> from pathlib import Path
    >>> from captioner.data.records import CaptionRecord
    >>> records = [CaptionRecord("1", Path("1.png"), "train", ("A dog runs.", "a brown dog")),
    ...            CaptionRecord("2", Path("2.png"), "train", ("a dog in the snow",)),
    ...            CaptionRecord("3", Path("3.png"), "train", ("a man in the snow",))]
    >>> concepts = caption_concepts(records, count=3)
    >>> concepts
    ['dog', 'snow', 'brown']
    >>> concept_targets(records, concepts).tolist()
    [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from captioner.data.records import CaptionRecord
from textmodels.errors import ConfigurationError
from textmodels.text.tokenizers import WordTokenizer

# How many words the encoder learns to name: Flickr8k's 300 most frequent content words ("man", "dog", "water", ...,
# "backpack", "concrete") each appear in the captions of at least 72 of the 6,000 training photos.
CONCEPT_COUNT = 300
# Function words say nothing about what a photo shows.
STOP_WORDS = frozenset(
    "a an the of in on at to and or is are be being with for from by his her its their while as it into near "
    "this that there some one two other each up down out over".split()
)
# Photos are flipped left to right as they are learned, which swaps these: they name no concept.
MIRRORED_WORDS = frozenset({"left", "right"})
NOT_CONCEPTS = STOP_WORDS | MIRRORED_WORDS
# Adam's learning rate of the pretraining; the rate halves when the validation loss stalls for an epoch.
LEARNING_RATE = 1e-3
# Photos per step: the images are small, and a larger batch steadies the batch normalisation.
BATCH_SIZE = 64
# Epochs without a lower validation loss before pretraining stops (the best epoch's weights are kept).
PATIENCE = 3


@dataclass
class ConceptPretraining:
    """What `pretrain_on_concepts` did: the words, the epochs run, and the best validation (else training) loss
    beside the loss of always predicting each word's training frequency (what an encoder that sees nothing
    reaches); ``val_auc`` is the best mean per-word ROC AUC on the validation photos (0.5: blind)."""

    concepts: list[str]
    epochs: int
    loss: float
    prior_loss: float
    val_auc: float | None


def _content_words(record: CaptionRecord, tokenizer: WordTokenizer) -> set[str]:
    words = {token for caption in record.captions for token in tokenizer.tokenize(caption)}
    return {word for word in words if word.isalpha() and word not in NOT_CONCEPTS}


def caption_concepts(records: Sequence[CaptionRecord], count: int = CONCEPT_COUNT) -> list[str]:
    """The ``count`` content words used by the captions of the most photos (ties: alphabetical); see the module
    example."""
    tokenizer = WordTokenizer(lowercase=True)
    photos_per_word = Counter(word for record in records for word in _content_words(record, tokenizer))
    ranked = sorted(photos_per_word.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:count]]


def concept_targets(records: Sequence[CaptionRecord], concepts: Sequence[str]) -> np.ndarray:
    """``(len(records), len(concepts))``: 1 where a photo's captions use the word; see the module example."""
    tokenizer = WordTokenizer(lowercase=True)
    column = {word: index for index, word in enumerate(concepts)}
    targets = np.zeros((len(records), len(concepts)), np.float32)
    for row, record in enumerate(records):
        for word in _content_words(record, tokenizer) & column.keys():
            targets[row, column[word]] = 1.0
    return targets


def _prior_loss(train_targets: np.ndarray, targets: np.ndarray) -> float:
    prior = np.clip(train_targets.mean(axis=0), 1e-7, 1 - 1e-7)
    return float(-np.mean(targets * np.log(prior) + (1 - targets) * np.log(1 - prior)))


def pretrain_on_concepts(
    encoder: keras.Model,
    train: Sequence[CaptionRecord],
    val: Sequence[CaptionRecord] = (),
    *,
    epochs: int,
    seed: int = 0,
    verbose: int | str = "auto",
    unreadable: MutableMapping[str, str] | None = None,
) -> ConceptPretraining:
    """Train ``encoder`` (in place) to tell which of the `CONCEPT_COUNT` most frequent content words of the
    training captions each photo's captions use: a sigmoid output per word on its features (dropout 0.5 between,
    photos flipped left-right at random), binary cross-entropy, Adam, for at most ``epochs`` epochs, stopped
    early on the validation photos (else the training ones) with the best epoch's weights kept. Photos are read
    from their files batch by batch; unreadable ones are recorded in ``unreadable`` and weigh nothing.

    Example:
        >>> import tempfile
        >>> from captioner.data.coco import read_coco
        >>> from captioner.data.synthetic import make_synthetic
        >>> from captioner.encoder import build_small_vgg_encoder
        >>> folder = tempfile.mkdtemp()
        >>> records = read_coco(make_synthetic(folder, num_images=8, image_size=16, seed=0), folder)
        >>> encoder = build_small_vgg_encoder(16, (4,), 8)
        >>> report = pretrain_on_concepts(encoder, records, epochs=1, verbose=0)
        >>> report.epochs, "red" in report.concepts
        (1, True)
    """
    from captioner.data.pipeline import concept_batches

    if epochs < 1:
        raise ConfigurationError(f"concept pretraining needs at least 1 epoch, got {epochs}.")
    concepts = caption_concepts(train)
    if not concepts:
        raise ConfigurationError("The training captions have no content words to pretrain the encoder on.")
    image_size = tuple(encoder.input_shape[1:3])
    train_targets = concept_targets(train, concepts)
    keras.utils.set_random_seed(seed)
    images = keras.Input(encoder.input_shape[1:], name="images")
    features = encoder(keras.layers.RandomFlip("horizontal", seed=seed, name="flip")(images))
    features = keras.layers.Dropout(0.5, seed=seed, name="concept_dropout")(features)
    # Each output starts at its word's training frequency, so the first steps teach what photos show instead of
    # how rare most words are.
    frequency = np.clip(train_targets.mean(axis=0), 1e-4, 1 - 1e-4)
    scores = keras.layers.Dense(len(concepts), activation="sigmoid", name="concepts",
                                bias_initializer=keras.initializers.Constant(np.log(frequency / (1 - frequency))))(
        features)
    namer = keras.Model(images, scores, name="concept_namer")
    batches = concept_batches([r.image_path for r in train], train_targets, BATCH_SIZE, image_size, shuffle=True,
                              seed=seed, unreadable=unreadable)
    val_targets = concept_targets(val, concepts) if val else None
    val_batches = None
    if val:
        val_batches = concept_batches([r.image_path for r in val], val_targets, BATCH_SIZE, image_size,
                                      unreadable=unreadable)
    monitor = "val_loss" if val else "loss"
    callbacks = [keras.callbacks.EarlyStopping(monitor=monitor, patience=PATIENCE, restore_best_weights=True),
                 keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=1, verbose=0)]
    # A captioner that keeps its encoder fixed (train_encoder=False) still has it taught here first.
    frozen, encoder.trainable = not encoder.trainable, True
    try:
        namer.compile(keras.optimizers.Adam(LEARNING_RATE), "binary_crossentropy",
                      metrics=[keras.metrics.AUC(multi_label=True, name="auc")] if val else [])
        # shuffle=False: the tf.data pipeline already reshuffles every epoch.
        history = namer.fit(batches, validation_data=val_batches, epochs=epochs, callbacks=callbacks, shuffle=False,
                            verbose=verbose).history
    finally:
        encoder.trainable = not frozen
    return ConceptPretraining(concepts, len(history["loss"]), float(min(history[monitor])),
                              _prior_loss(train_targets, train_targets if val_targets is None else val_targets),
                              float(max(history["val_auc"])) if val else None)
