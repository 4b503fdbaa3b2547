"""One decoding (or scoring) step compiled for the active backend, so that a token costs one compiled call.

- TensorFlow: a ``tf.function`` (the model's variables are read inside the graph).
- JAX: a ``jax.jit`` of a *stateless* step: the current values of ``weights``' variables are arguments of the
  compiled function (through `keras.StatelessScope`), so later training or loading is seen by the next call;
  a plain ``jit`` would freeze the weights into the compiled function as constants.
- PyTorch: the eager step under ``torch.no_grad()``: no autograd graph is recorded. ``torch.compile`` did not
  pay here: it recompiles for every batch size a search uses, minutes each, to bring a one-token LSTM step
  from 4.6 to 3.2 ms.

A step returns the backend's tensors: a decoding loop converts what it reads (the log-probabilities, with
``keras.ops.convert_to_numpy``) and passes the recurrent states back in as they are (converting them to NumPy
and back cost more than the step itself on TensorFlow); `textmodels.decoding.reorder_state` picks beam rows
of such states on their device.

Example:
    >>> import keras
    >>> double = compile_step(lambda x: x * 2)
    >>> float(keras.ops.convert_to_numpy(double(keras.ops.ones(()))))
    2.0
"""

from __future__ import annotations

from collections.abc import Callable


def compile_step(function: Callable, input_signature: list | None = None, weights=None) -> Callable:
    """``function`` compiled for the active backend (see the module notes).

    ``input_signature``: the arguments as (nested lists of) `keras.InputSpec` with shape and dtype, ``None``
    for a dimension that varies (batch, beam rows). On TensorFlow the step is then traced here, once, and never
    retraced; without one, TensorFlow retraces sparingly (``reduce_retracing``) as shapes vary. JAX traces once
    per distinct argument shape (a search keeps its row count fixed, so once per batch size); PyTorch runs eagerly.

    ``weights``: the layer (or model) whose variables ``function`` reads. Needed on JAX, where they become
    arguments of the compiled step; without it a JAX step must not read any variable.

    Example:
        >>> import keras, numpy as np
        >>> add = compile_step(lambda a, b: a + b, [keras.InputSpec(shape=(None,), dtype="int32")] * 2)
        >>> keras.ops.convert_to_numpy(add(np.array([1, 2], "int32"), np.array([3, 4], "int32"))).tolist()
        [4, 6]
        >>> dense = keras.layers.Dense(1, kernel_initializer="ones")
        >>> dense.build((None, 2))
        >>> project = compile_step(dense, weights=dense)
        >>> keras.ops.convert_to_numpy(project(np.ones((1, 2), "float32"))).tolist()
        [[2.0]]
        >>> _ = dense.kernel.assign(2 * np.ones((2, 1)))  # the compiled step sees the weights as they are now
        >>> keras.ops.convert_to_numpy(project(np.ones((1, 2), "float32"))).tolist()
        [[4.0]]
    """
    import keras  # here, not at the top: the rest of textmodels.decoding is NumPy only and imports fast

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_step(function, input_signature)
    if backend == "jax":
        return _jax_step(function, [] if weights is None else list(weights.variables))
    if backend == "torch":
        return _torch_step(function)
    return function


def _tensorflow_step(function: Callable, input_signature: list | None) -> Callable:
    import tensorflow as tf

    if input_signature is None:
        # The steps have no Python control flow to convert; AutoGraph would only warn about the source.
        return tf.function(function, reduce_retracing=True, autograph=False)
    specs = _tensor_specs(input_signature)
    traced = tf.function(function, input_signature=specs, autograph=False).get_concrete_function()
    flat_specs = tf.nest.flatten(specs)

    def step(*args):
        # The traced graph called with its flat inputs, as `ConcreteFunction.__call__` does once it has bound
        # and checked the arguments: that binding costs a quarter of a one-token step, and the signature fixed
        # at tracing already guarantees what it checks. (`_call_flat` is private: tensorflow is pinned in
        # pyproject.toml, and the one-step tests would fail on a release without it.)
        inputs = [tf.convert_to_tensor(value, spec.dtype) for value, spec in zip(tf.nest.flatten(args), flat_specs,
                                                                                  strict=True)]
        return traced._call_flat(inputs, traced.captured_inputs)

    return step


def _jax_step(function: Callable, variables: list) -> Callable:
    import jax
    import keras

    def stateless(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return function(*args)

    compiled = jax.jit(stateless)

    def step(*args):
        return compiled([variable.value for variable in variables], *args)

    return step


def _torch_step(function: Callable) -> Callable:
    import torch

    def step(*args):
        with torch.no_grad():
            return function(*args)

    return step


def _tensor_specs(specs):
    import tensorflow as tf

    if isinstance(specs, (list, tuple)):
        return [_tensor_specs(spec) for spec in specs]
    return tf.TensorSpec(specs.shape, specs.dtype)
