"""Self-critical sequence training (Rennie et al. 2017): fine-tune a cross-entropy captioner on the CIDEr-D of its
own captions.

For every batch of training photos:

1. ``samples`` captions per photo are drawn from the model (multinomial, temperature 1) by
   `textmodels.decoding.sample_search` over the compiled decoder step: the recurrent state is carried from token
   to token and every sample of the batch advances in the same compiled call;
2. each sample's reward is its CIDEr-D against the photo's references (`captioner.cider_d.CiderD`: document
   frequencies fitted once from the training references; with ``reward_eos`` the end token is counted, so the
   reward sees how a caption ends and a caption cut off at the length limit scores lower than one that ended);
3. its advantage is the reward minus a baseline: the reward of the photo's greedy caption (``"greedy"``, the
   self-critical baseline: a sample gains probability only when it beats what the model says at test time) or
   the mean reward of the photo's other samples (``"mean"``: no greedy decoding);
4. one optimizer step on `captioner.policy_gradient_loss.PolicyGradientLoss`: the model's own teacher-forced
   pass over the samples, each sample's token cross-entropy summed and weighted by its advantage
   (``train_on_batch`` with the advantages as sample weights, so TensorFlow, JAX and PyTorch run the same code).

The update runs without dropout, as the samples were drawn without it (the gradient is that of the policy that
sampled), and only the decoder learns: the image features are computed once (read from a feature cache, or by
the model's encoder), so the fine-tuned model keeps its encoder frozen (its ``train_encoder`` becomes False).

After every epoch the validation photos' greedy captions are scored with CIDEr-D (document frequencies of the
validation references, no end token: the COCO evaluation's CIDEr-D up to the tokenisation, see
`captioner.cider_d`) as ``val_cider``, and the best epoch is kept. With ``run_dir`` or ``out``, fine-tuning goes
through `textmodels.training.train_in_run`, like every model's training: every epoch is checkpointed in the run
folder (``last.keras`` with the optimizer state, ``best.keras``, ``state.json``), the best epoch is copied to
``out``, and ``resume=True`` continues an interrupted run; a kill loses only the epoch in progress, which is
replayed with the same photo order and the same random draws.

Example:
    >>> import tempfile
    >>> from captioner.config import CaptionerConfig
    >>> from captioner.data import make_synthetic, read_coco
    >>> from captioner.training import train_captioner
    >>> folder = tempfile.mkdtemp()
    >>> records = read_coco(make_synthetic(folder, num_images=20, image_size=16), folder)
    >>> model = train_captioner(records, CaptionerConfig(image_size=16, conv_filters=(4,), feature_dim=8, units=8,
    ...                         embedding_dim=4, epochs=1, min_count=1), verbose=0).model
    >>> result = finetune_self_critical(model, records, SelfCriticalConfig(epochs=1, batch_size=8), progress=False)
    >>> sorted(result.history)
    ['baseline', 'loss', 'reward', 'val_cider']
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from captioner.api import CaptionerLoadError
from captioner.cider_d import CiderD
from captioner.data.images import ImageLoadError
from captioner.data.records import CaptionRecord
from captioner.decoding_steps import NEVER_EMITTED
from captioner.encoder import CacheMismatchError, FeatureCache
from captioner.encoder.cache import config_hash
from captioner.errors import CaptionDataError
from captioner.metrics import simple_tokenize
from captioner.model import CaptionModel
from captioner.policy_gradient_loss import PolicyGradientLoss
from captioner.self_critical_config import SelfCriticalConfig, check_self_critical_config
from captioner.training import TrainingResult, training_inputs
from textmodels import fault_points
from textmodels.decoding import greedy_search, sample_search
from textmodels.errors import ConfigurationError
from textmodels.text import Vocabulary
from textmodels.training import train_in_run

# Below this share of the training captions' words in the model's vocabulary, the data is probably not what the
# model was trained on (a model fitted to Flickr8k's training captions at min_count 5 covers 97.6% of their words).
MIN_VOCABULARY_COVERAGE = 0.9
VALIDATION_BATCH = 256


def vocabulary_coverage(model: CaptionModel, records: Sequence[CaptionRecord], most: int = 2000) -> float:
    """The share of the words of ``records``' captions (as the model tokenises them) in the model's vocabulary,
    measured on at most ``most`` captions spread evenly over them (tokenising is slow, the estimate is not).

    Example:
        >>> from pathlib import Path
        >>> from captioner.model import fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> round(vocabulary_coverage(model, [CaptionRecord("1", Path("a.png"), "train", ("a red square",))]), 3)
        0.667
    """
    text_encoder = model.text_encoder
    captions = [caption for record in records for caption in record.captions]
    captions = captions[:: max(1, -(-len(captions) // most))]
    ids = [token_id for caption in captions
           for token_id in text_encoder.vocabulary.encode(text_encoder.tokenizer.tokenize(caption))]
    return 1.0 - ids.count(Vocabulary.unk_id) / len(ids) if ids else 1.0


def finetune_self_critical(
    model: CaptionModel,
    records: Sequence[CaptionRecord],
    config: SelfCriticalConfig | None = None,
    *,
    features: Mapping | FeatureCache | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    out: str | Path | None = None,
    progress: bool = True,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainingResult:
    """Fine-tune ``model`` (a cross-entropy `CaptionModel`, changed in place) by self-critical training on the
    ``train`` records, keeping the epoch with the best validation CIDEr-D (``val`` records, required).

    Args:
        model: the captioner to start from (ignored when ``resume`` finds a checkpoint: the run continues).
        records: all records; ``train`` (and ``restval``) ones are trained on, ``val`` ones pick the best epoch.
        config: the `SelfCriticalConfig` (default: its defaults).
        features: ``{image_id: vector}`` or a `captioner.encoder.FeatureCache` of the model's encoder (another
            encoder's cache is refused); None computes the features once with the model's encoder.
        run_dir: the run folder (``last.keras``/``best.keras``/``state.json``; default: ``out`` with ``.keras``
            replaced by ``.run``).
        resume: continue the run saved in the run folder.
        out: the ``.keras`` file that receives the best epoch's checkpoint.
        progress: show a progress bar per epoch.
        callbacks: more Keras callbacks, called as ``fit`` calls them (epoch logs: ``loss``, ``reward``,
            ``baseline``, ``val_cider``).

    Returns the best epoch's model and the per-epoch ``loss``, ``reward`` (mean sample reward), ``baseline``
    (mean baseline) and ``val_cider``.
    """
    config = config or SelfCriticalConfig()
    check_self_critical_config(config)
    if not isinstance(model, CaptionModel):
        raise CaptionerLoadError(f"Self-critical fine-tuning needs a CaptionModel, got {type(model).__name__}.")
    if run_dir is None and out is None and resume:
        raise ConfigurationError("resume=True needs run_dir or out (the run to continue is in run_dir, by default "
                                 "beside out).")
    train = [record for record in records if record.split in ("train", "restval")]
    val = [record for record in records if record.split == "val"]
    splits = sorted({record.split for record in records})
    if not train:
        raise CaptionDataError(f"No training photos: the data has no record in the 'train' split (splits: {splits}).")
    if not val:
        raise CaptionDataError(
            f"The data has no 'val' split (splits: {splits}): self-critical fine-tuning keeps the epoch whose "
            "greedy captions of the validation photos score the best CIDEr-D, so it needs validation photos."
        )
    coverage = vocabulary_coverage(model, train)
    if coverage < MIN_VOCABULARY_COVERAGE:
        warnings.warn(
            f"Only {coverage:.0%} of the words of the training captions are in the model's vocabulary of "
            f"{len(model.text_encoder.vocabulary)} tokens: this data is probably not what the model was trained "
            "on, and the words it lacks can never be rewarded.",
            stacklevel=2,
        )
    keras.utils.set_random_seed(config.seed)
    prepared = {}

    def prepare(restored):
        """The restored model (an interrupted run continues) or ``model`` made ready; the photos' features."""
        tuned = restored
        if tuned is None:
            tuned = model
            _prepare(tuned, config)
        prepared["train"] = _photo_features(tuned, train, features)
        prepared["val"] = _photo_features(tuned, val, features)
        prepared["reward"] = CiderD({r.image_id: list(r.captions) for r in prepared["train"][0]}, eos=config.reward_eos)
        prepared["validation"] = CiderD({r.image_id: list(r.captions) for r in prepared["val"][0]})
        prepared["words_of_id"] = _reward_words(tuned)
        return tuned

    def fit(tuned, stopping, run=None):
        """Epochs ``run.initial_epoch`` (0 without a run) to ``config.epochs``, the callbacks called as Keras'
        ``fit`` calls them; returns a Keras ``History``."""
        all_callbacks = keras.callbacks.CallbackList([*stopping, *callbacks], model=tuned)
        history = keras.callbacks.History()
        history.history = {}
        tuned.stop_training = False
        (train_kept, train_features), (val_kept, val_features) = prepared["train"], prepared["val"]
        with _without_dropout(tuned):
            all_callbacks.on_train_begin()
            for epoch in range(run.initial_epoch if run is not None else 0, config.epochs):
                all_callbacks.on_epoch_begin(epoch)
                logs = _train_epoch(tuned, config, epoch, train_kept, train_features, prepared["reward"],
                                    prepared["words_of_id"], all_callbacks, run.directory if run is not None else "",
                                    progress)
                if run is not None and run.diverged_at:
                    break
                logs["val_cider"] = _greedy_cider(tuned, val_kept, val_features, prepared["validation"])
                all_callbacks.on_epoch_end(epoch, logs)
                for key, value in logs.items():
                    history.history.setdefault(key, []).append(value)
                if tuned.stop_training:
                    break
            all_callbacks.on_train_end()
        return history

    if run_dir is None and out is None:
        best = _BestWeights()
        stopping = [best]
        if config.patience is not None:
            stopping.append(keras.callbacks.EarlyStopping(monitor="val_cider", mode="max", patience=config.patience))
        model = prepare(None)
        history = fit(model, stopping).history
        if best.weights is not None:
            model.set_weights(best.weights)
        return TrainingResult(model, history)
    trained = train_in_run(run_dir, prepare, fit, model_classes=[CaptionModel], what="a captioner",
                           epochs=config.epochs, out=out, resume=resume, monitor="val_cider", mode="max",
                           patience=config.patience)
    model = trained.model
    if trained.run.best_path.is_file():
        from textmodels.saving import load_model

        model.set_weights(load_model(trained.run.best_path, [CaptionModel], "a captioner", compile=False).get_weights())
    return TrainingResult(model, dict(trained.run.state["history"]), trained.out, trained.source,
                          trained.resumed_after)


class _BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the best ``val_cider`` (training without a run folder)."""

    def __init__(self):
        super().__init__()
        self.best, self.weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        if self.best is None or logs["val_cider"] > self.best:
            self.best, self.weights = logs["val_cider"], self.model.get_weights()


def _prepare(model: CaptionModel, config: SelfCriticalConfig) -> None:
    """Freezes the encoder (the features are fixed inputs) and compiles the policy-gradient update."""
    from textmodels.training import make_optimizer

    model.train_encoder = False
    if model.encoder is not None:
        model.encoder.trainable = False
    model.compile(optimizer=make_optimizer(config.optimizer, config.learning_rate, config.clipnorm),
                  loss=PolicyGradientLoss(NEVER_EMITTED))


@contextmanager
def _without_dropout(model: CaptionModel):
    """The decoder's dropout layers (on the embeddings and the recurrent outputs) off inside the block."""
    layers = [model.decoder.embedding_dropout, model.decoder.output_dropout]
    rates = [layer.rate for layer in layers]
    for layer in layers:
        layer.rate = 0.0
    try:
        yield
    finally:
        for layer, rate in zip(layers, rates):
            layer.rate = rate


def _photo_features(model: CaptionModel, records: list[CaptionRecord], features) -> tuple[list, np.ndarray]:
    """``(records kept, their (N, feature_dim) features)``: from ``features``, or encoded once from the photos
    (unreadable photos are left out with a warning)."""
    if model.image_blind:
        return records, np.zeros((len(records), model.feature_dim), np.float32)
    if features is not None:
        if isinstance(features, FeatureCache) and config_hash(features.encoder_config) != config_hash(
            model.encoder_config
        ):
            raise CacheMismatchError(
                f"The feature cache {features.directory} holds features of another encoder "
                f"({features.encoder_config}) than the model's ({model.encoder_config})."
            )
        kept, array, _ = training_inputs(records, model, features)
        return kept, array
    from captioner.data.pipeline import image_batches

    unreadable: dict[str, str] = {}
    kept, chunks = [], []
    batches = image_batches([record.image_path for record in records], model.image_size, 32, unreadable=unreadable)
    for indices, images in batches.as_numpy_iterator():
        kept += [records[int(index)] for index in indices]
        chunks.append(model.encode_images(images))
    if not kept:
        raise ImageLoadError(f"None of the {len(records)} photos could be read, e.g. "
                             f"{next(iter(unreadable.values()), '?')}")
    if unreadable:
        warnings.warn(f"{len(unreadable)} photo(s) could not be read and were left out, e.g. "
                      f"{next(iter(unreadable.values()))}", stacklevel=3)
    return kept, np.concatenate(chunks)


def _reward_words(model: CaptionModel) -> list[list[str]]:
    """Per token id, the words `simple_tokenize` makes of it (none for the markers): a sampled caption's words
    are then joined without decoding its text. This equals tokenising the decoded text except where the
    Treebank detokenizer merges two tokens into one word ("gon na" -> "gonna")."""
    markers = {Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id}
    return [[] if token_id in markers else simple_tokenize(token)
            for token_id, token in enumerate(model.text_encoder.vocabulary.tokens)]


def _search_settings(model: CaptionModel) -> dict:
    return dict(bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id, max_length=model.max_caption_length + 1,
                banned_ids=NEVER_EMITTED)


def _rewards(reward: CiderD, token_lists, keys, words_of_id, max_steps: int) -> np.ndarray:
    words = [list(itertools.chain.from_iterable(words_of_id[token] for token in tokens)) for tokens in token_lists]
    # A caption shorter than the step limit emitted <eos>; one that reached it was cut off.
    return reward.score_tokens(words, keys, ended=[len(tokens) < max_steps for tokens in token_lists])


def _teacher_forcing(token_lists, max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets)``, each ``(N, max_steps)``: ``<bos> w_1 .. w_n`` and ``w_1 .. w_n <eos>`` (no
    ``<eos>`` for a caption that never ended), zero-padded. One shape for every batch: JAX compiles the update
    once (cutting each batch to its longest sample would compile it again for every length)."""
    ids = np.zeros((len(token_lists), max_steps + 1), np.int32)
    ids[:, 0] = Vocabulary.bos_id
    for row, tokens in enumerate(token_lists):
        ids[row, 1 : len(tokens) + 1] = tokens
        if len(tokens) < max_steps:
            ids[row, len(tokens) + 1] = Vocabulary.eos_id
    return ids[:, :-1], ids[:, 1:]


def _update(model, config, photo_features, keys, reward, words_of_id, rng) -> dict:
    """One self-critical step on a batch of photos; returns its loss, mean reward and mean baseline."""
    start, step = model.decoding_functions()
    search = _search_settings(model)
    repeated = np.repeat(photo_features, config.samples, axis=0)
    samples = sample_search(step, start(repeated), len(repeated), temperature=1.0, rng=rng, **search)
    sample_keys = [key for key in keys for _ in range(config.samples)]
    rewards = _rewards(reward, samples, sample_keys, words_of_id, search["max_length"])
    if config.baseline == "greedy":
        greedy = greedy_search(step, start(photo_features), len(photo_features), **search)
        baselines = np.repeat(_rewards(reward, greedy, keys, words_of_id, search["max_length"]), config.samples)
    else:
        per_photo = rewards.reshape(-1, config.samples)
        baselines = ((per_photo.sum(axis=1, keepdims=True) - per_photo) / (config.samples - 1)).ravel()
    inputs, targets = _teacher_forcing(samples, search["max_length"])
    logs = model.train_on_batch({"features": repeated, "tokens": inputs}, targets,
                                # Per token, the shape of the token losses: Keras multiplies the mask of the
                                # padding into it in place, which PyTorch refuses to broadcast from (N, 1).
                                sample_weight=np.repeat((rewards - baselines).astype(np.float32)[:, None],
                                                        targets.shape[1], axis=1), return_dict=True)
    return {"loss": float(logs["loss"]), "reward": float(rewards.mean()), "baseline": float(baselines.mean())}


def _train_epoch(model, config, epoch, records, features, reward, words_of_id, callbacks, run_directory,
                 progress) -> dict:
    rng = np.random.default_rng([config.seed, epoch])
    order = rng.permutation(len(records))
    batches = [order[first : first + config.batch_size] for first in range(0, len(order), config.batch_size)]
    totals = {"loss": 0.0, "reward": 0.0, "baseline": 0.0}
    seen = 0
    with tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", disable=not progress,
              leave=False) as bar:
        for index, photos in enumerate(bar):
            callbacks.on_train_batch_begin(index)
            logs = _update(model, config, features[photos], [records[row].image_id for row in photos], reward,
                           words_of_id, rng)
            callbacks.on_train_batch_end(index, logs)
            fault_points.reached(fault_points.TRAINING_STEP, run_directory)
            seen += len(photos)
            for key in totals:
                totals[key] += logs[key] * len(photos)
            bar.set_postfix(reward=f"{logs['reward']:.3f}", baseline=f"{logs['baseline']:.3f}")
            if model.stop_training:
                break
    return {key: value / max(seen, 1) for key, value in totals.items()}


def _greedy_cider(model: CaptionModel, records, features: np.ndarray, scorer: CiderD) -> float:
    """CIDEr-D of the greedy captions of ``records`` (their text decoded as evaluation decodes it)."""
    start, step = model.decoding_functions()
    captions = {}
    for first in range(0, len(records), VALIDATION_BATCH):
        chunk = features[first : first + VALIDATION_BATCH]
        token_lists = greedy_search(step, start(chunk), len(chunk), **_search_settings(model))
        for record, tokens in zip(records[first : first + VALIDATION_BATCH], token_lists):
            captions[record.image_id] = model.text_encoder.decode(tokens)
    return scorer.corpus_score(captions)
