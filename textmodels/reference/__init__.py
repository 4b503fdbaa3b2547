"""The NumPy reference RNN with hand-written BPTT (`numpy_rnn`) and, beside it, gradient diagnostics with Keras
(`gradient_diagnostics`: the reference gradients against autodiff, gradient flow through recurrent layers).

Example:
    >>> from textmodels.reference import RNNParams, backward, forward
    >>> loss, cache = forward(RNNParams.random(vocab_size=3, hidden_size=2), [0, 1], [1, 2])
    >>> sorted(backward(RNNParams.random(3, 2), cache))
    ['U', 'V', 'W', 'b', 'c']
"""

from textmodels.reference.gradient_diagnostics import (
    KERAS_TOLERANCE,
    compare_with_keras,
    gradient_flow_demo,
    gradient_norms_over_time,
    keras_loss_and_gradients,
)
from textmodels.reference.numpy_rnn import (
    PARAM_NAMES,
    ForwardCache,
    ReferenceInputError,
    RNNParams,
    TrainResult,
    backward,
    clip_by_global_norm,
    forward,
    sample,
    train,
)

__all__ = ["KERAS_TOLERANCE", "PARAM_NAMES", "ForwardCache", "RNNParams", "ReferenceInputError", "TrainResult",
           "backward", "clip_by_global_norm", "compare_with_keras", "forward", "gradient_flow_demo",
           "gradient_norms_over_time", "keras_loss_and_gradients", "sample", "train"]
