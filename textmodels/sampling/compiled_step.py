"""One decoding (or scoring) step compiled for the active backend, so that a token costs one graph call.

Example:
    >>> import keras
    >>> double = compile_step(lambda x: x * 2)
    >>> float(double(keras.ops.ones(())))
    2.0
"""

from __future__ import annotations

from collections.abc import Callable


def compile_step(function: Callable, input_signature: list | None = None) -> Callable:
    """``function`` compiled where that is safe: a ``tf.function`` on TensorFlow, the function itself elsewhere
    (a JAX ``jit`` would freeze the model's weights into the compiled function).

    ``input_signature``: the arguments as (nested lists of) `keras.InputSpec` with shape and dtype, ``None``
    for a dimension that varies (batch, beam rows). With one, the step is traced here, once, and never
    retraced; without, TensorFlow retraces sparingly (``reduce_retracing``) as shapes vary.

    Example:
        >>> import keras, numpy as np
        >>> add = compile_step(lambda a, b: a + b, [keras.InputSpec(shape=(None,), dtype="int32")] * 2)
        >>> keras.ops.convert_to_numpy(add(np.array([1, 2], "int32"), np.array([3, 4], "int32"))).tolist()
        [4, 6]
    """
    import keras  # here, not at the top: the rest of textmodels.sampling is NumPy only and imports fast

    if keras.backend.backend() != "tensorflow":
        return function
    import tensorflow as tf

    if input_signature is None:
        # The steps have no Python control flow to convert; AutoGraph would only warn about the source.
        return tf.function(function, reduce_retracing=True, autograph=False)
    compiled = tf.function(function, input_signature=_tensor_specs(input_signature), autograph=False)
    compiled.get_concrete_function()
    return compiled


def _tensor_specs(specs):
    import tensorflow as tf

    if isinstance(specs, (list, tuple)):
        return [_tensor_specs(spec) for spec in specs]
    return tf.TensorSpec(specs.shape, specs.dtype)
