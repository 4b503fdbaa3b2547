"""Next-token selection shared by the language models and the captioner: greedy, temperature, top-k, top-p.

Example:
    >>> import numpy as np
    >>> from textmodels.sampling import sample_next, validate_sampling_args
    >>> validate_sampling_args(temperature=0.0)
    >>> sample_next(np.array([[0.0, 1.0]]), temperature=0.0).tolist()
    [1]
"""

from __future__ import annotations

from textmodels.sampling.samplers import (
    SamplingError,
    ban_tokens,
    log_softmax,
    sample_next,
    validate_sampling_args,
)

__all__ = ["SamplingError", "ban_tokens", "log_softmax", "sample_next", "validate_sampling_args"]
