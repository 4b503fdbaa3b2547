"""`SelfCriticalConfig`: the settings of self-critical fine-tuning (`captioner.self_critical`), free of Keras so that
``captioner finetune --help`` stays instant.

Example:
    >>> SelfCriticalConfig().learning_rate
    0.0005
"""

from __future__ import annotations

from dataclasses import dataclass

from textmodels.errors import (
    INTEGER,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    ConfigurationError,
    check,
    check_all,
    check_choice,
)

BASELINES = ("greedy", "mean")
REWARDS = ("cider",)


@dataclass
class SelfCriticalConfig:
    """Settings of self-critical fine-tuning.

    Example:
        >>> SelfCriticalConfig(baseline="mean").samples
        5
    """

    # The reward: "cider" (CIDEr-D against the photo's references; the only one so far).
    reward: str = "cider"
    # Most epochs over the training photos (early stopping on val_cider may end sooner).
    epochs: int = 10
    # Photos per update; each contributes `samples` captions (32 x 5 = 160 sequences, as many as a cross-entropy
    # batch of 32 photos with their 5 references).
    batch_size: int = 32
    # Captions sampled per photo.
    samples: int = 5
    # "greedy": the reward of the photo's greedy caption; "mean": the mean reward of its other samples.
    baseline: str = "greedy"
    # Adam at 5e-4: on Flickr8k (188 updates an epoch) it raised validation CIDEr-D from 0.336 to 0.392 in 15
    # epochs where Rennie et al.'s 5e-5 (tuned on COCO, ~20x the updates an epoch) did not move it in two.
    learning_rate: float = 5e-4
    optimizer: str = "adam"
    # Gradients are rescaled when their global norm exceeds this (None: no clipping).
    clipnorm: float | None = 5.0
    # Count the end token in the reward (appended to the references and to the samples that ended).
    reward_eos: bool = True
    # Stop after this many epochs without a better val_cider (None: never stop early).
    patience: int | None = 3
    # Seed of the photo order and of the sampling (epoch e uses the seed [seed, e]).
    seed: int = 0


def check_self_critical_config(config: SelfCriticalConfig) -> None:
    """`textmodels.errors.ConfigurationError` naming the first setting of ``config`` out of its range.

    Example:
        >>> try:
        ...     check_self_critical_config(SelfCriticalConfig(baseline="mean", samples=1))
        ... except ValueError as error:
        ...     print(error)
        baseline 'mean' needs samples >= 2 (the mean of the other samples), got 1.
    """
    check_all(POSITIVE_INT, epochs=config.epochs, batch_size=config.batch_size, samples=config.samples)
    check_choice("reward", config.reward, REWARDS)
    check_choice("baseline", config.baseline, BASELINES)
    check("learning_rate", config.learning_rate, POSITIVE_NUMBER)
    check("clipnorm", config.clipnorm, POSITIVE_NUMBER, optional=True)
    check("patience", config.patience, NON_NEGATIVE_INT, optional=True)
    check("seed", config.seed, INTEGER)
    if config.baseline == "mean" and config.samples < 2:
        raise ConfigurationError(
            f"baseline 'mean' needs samples >= 2 (the mean of the other samples), got {config.samples}."
        )
