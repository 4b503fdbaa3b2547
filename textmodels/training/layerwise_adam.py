"""Adam with one learning-rate factor per layer group: discriminative rates and gradual unfreezing (ULMFiT)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from textmodels.errors import ConfigurationError


@keras.saving.register_keras_serializable(package="textmodels")
class LayerwiseAdam(keras.optimizers.Adam):
    """Adam whose step for each *layer group* is the learning rate times that group's factor.

    Howard & Ruder (2018, ULMFiT) fine-tune a pretrained encoder with *discriminative* rates (each group below
    the top learns ``layer_rate_decay`` times slower than the one above it: lower layers hold general
    knowledge that large steps would destroy) and *gradual unfreezing* (epoch 0 trains the head only, every
    later epoch unfreezes one more group, from the top down).

    Args:
        rate_groups: the groups from the bottom up (e.g. ``["embedding/", "recurrent/lstm_0/"]``), each a
            prefix of variable paths with the model's own name left out. Variables in no group (the head:
            pooling, classifier) always learn at the full rate.
        layer_rate_decay: the rate divides by this once per group below the head (ULMFiT: 2.6); None or 1: one
            rate for all.
        gradual_unfreezing: freeze (factor 0) every group more than ``epoch`` groups below the head.
        **kwargs: `keras.optimizers.Adam`'s (``learning_rate``, ``global_clipnorm``, ...).

    `start_epoch` sets the factors of an epoch (the `LayerRateSchedule` callback calls it), so a resumed run
    continues with the factors of the epoch it resumes at; the factors live in an optimizer variable, read by
    the compiled step on every update (no retracing).

    Example:
        >>> optimizer = LayerwiseAdam(["embedding/", "recurrent/lstm_0/"], layer_rate_decay=2.0,
        ...                           gradual_unfreezing=True)
        >>> optimizer.factors_for_epoch(0).tolist(), optimizer.factors_for_epoch(1).tolist()
        ([0.0, 0.0], [0.0, 0.5])
        >>> optimizer.factors_for_epoch(5).tolist()
        [0.25, 0.5]
    """

    def __init__(self, rate_groups: Sequence[str] = (), layer_rate_decay: float | None = None,
                 gradual_unfreezing: bool = False, **kwargs):
        super().__init__(**kwargs)
        if layer_rate_decay is not None and layer_rate_decay < 1:
            raise ConfigurationError(f"layer_rate_decay must be >= 1 (1: one rate for all), got {layer_rate_decay}")
        self.rate_groups = tuple(str(group) for group in rate_groups)
        self.layer_rate_decay = None if layer_rate_decay is None else float(layer_rate_decay)
        self.gradual_unfreezing = bool(gradual_unfreezing)
        self.rate_factors = None

    def factors_for_epoch(self, epoch: int) -> np.ndarray:
        """The factor of every group (bottom up) during ``epoch`` (0-based)."""
        below_head = np.arange(len(self.rate_groups), 0, -1)  # the top group is 1 below the head
        factors = (self.layer_rate_decay or 1.0) ** -below_head.astype("float64")
        if self.gradual_unfreezing:
            factors[below_head > epoch] = 0.0
        return factors.astype("float32")

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        first_epoch = self.factors_for_epoch(0) if self.rate_groups else np.ones(1, "float32")
        # The values go in through the initializer: an assign() during build may run in a symbolic scope
        # that discards it.
        self.rate_factors = self.add_variable(
            shape=first_epoch.shape, name="rate_factors",
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(first_epoch, dtype=dtype),
        )

    def start_epoch(self, epoch: int) -> None:
        """Sets the factors of ``epoch``; builds nothing (call after the first step or after `build`)."""
        if self.rate_factors is not None and self.rate_groups:
            self.rate_factors.assign(self.factors_for_epoch(epoch))

    def group_of(self, variable) -> int | None:
        """The index of the group holding ``variable`` (by its path without the model's name), None: the head.

        Example:
            >>> print(LayerwiseAdam(["embedding/"]).group_of(keras.Variable(1.0, name="x")))
            None
        """
        inner_path = variable.path.split("/", 1)[-1]
        for index, prefix in enumerate(self.rate_groups):
            if inner_path.startswith(prefix):
                return index
        return None

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        by_group: dict[int | None, tuple[list, list]] = {}
        for grad, variable in zip(grads, trainable_variables):
            group_grads, group_variables = by_group.setdefault(self.group_of(variable), ([], []))
            group_grads.append(grad)
            group_variables.append(variable)
        for group, (group_grads, group_variables) in by_group.items():
            rate = learning_rate if group is None else learning_rate * ops.take(self.rate_factors, group)
            super()._backend_update_step(group_grads, group_variables, rate)

    def get_config(self):
        return {
            **super().get_config(),
            "rate_groups": list(self.rate_groups),
            "layer_rate_decay": self.layer_rate_decay,
            "gradual_unfreezing": self.gradual_unfreezing,
        }
