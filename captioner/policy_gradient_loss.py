"""The loss of self-critical training: the advantage-weighted negative log-likelihood of sampled captions.

With the advantages passed as Keras sample weights (each caption's advantage on each of its tokens, an (N, T)
array: Keras multiplies the padding mask into it in place, which PyTorch cannot broadcast from (N, 1)),
minimising this loss is a step of
REINFORCE with a baseline (Williams 1992; Rennie et al. 2017):
``loss = -1/B * sum_i advantage_i * sum_t log q(w_it | w_i<t, image_i)``,
where ``q`` is the model's next-word distribution with ``banned_ids`` removed (renormalised), exactly the
distribution the captions were sampled from, and the inner sum runs over each caption's tokens up to and with
its ``<eos>`` (padding, id 0, excluded). The model's own teacher-forced forward pass computes it, so
``train_on_batch`` gives the update on TensorFlow, JAX and PyTorch alike.

Example:
    >>> import numpy as np
    >>> loss = PolicyGradientLoss(banned_ids=[0])
    >>> logits = np.log(np.array([[[0.1, 0.6, 0.3], [0.1, 0.3, 0.6]]], "float32"))  # 1 caption, 2 steps
    >>> targets = np.array([[1, 2]])
    >>> round(float(loss(targets, logits, sample_weight=np.array([2.0]))), 4)  # -2 * log(2/3 * 2/3)
    1.6219
"""

from __future__ import annotations

from collections.abc import Iterable

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="captioner")
class PolicyGradientLoss(keras.losses.Loss):
    """Per caption, the summed cross-entropy of its non-padding target tokens under the model's distribution
    without ``banned_ids``; weighted by the sample weights (the advantages) and averaged over the captions.

    Example:
        >>> loss = PolicyGradientLoss(banned_ids=(0, 1, 2))
        >>> PolicyGradientLoss.from_config(loss.get_config()).banned_ids
        (0, 1, 2)
    """

    def __init__(self, banned_ids: Iterable[int] = (), name: str = "policy_gradient", dtype=None):
        # "sum" and the division by the batch size in `call`: the per-token values are already masked here, so
        # a mask Keras attaches to the logits (the padding of the inputs) must not rescale them once more.
        super().__init__(name=name, reduction="sum", dtype=dtype)
        self.banned_ids = tuple(int(token) for token in banned_ids)

    def call(self, y_true, y_pred):
        targets = ops.cast(y_true, "int32")
        if self.banned_ids:
            offsets = np.zeros(y_pred.shape[-1], "float32")
            # Not -inf: a masked-out padding target (id 0) would then give inf * 0 = NaN.
            offsets[list(self.banned_ids)] = -1e9
            y_pred = y_pred + ops.cast(offsets, y_pred.dtype)
        token_losses = ops.sparse_categorical_crossentropy(targets, y_pred, from_logits=True)
        kept = ops.cast(ops.not_equal(targets, 0), token_losses.dtype)
        per_token = token_losses * kept / ops.cast(ops.shape(targets)[0], token_losses.dtype)
        # (B, T): Keras multiplies it by the sample weights (the advantages), then sums.
        return per_token

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "banned_ids": list(self.banned_ids)}
