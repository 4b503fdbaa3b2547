"""Optimizers with gradient clipping by global norm switched on by default."""

from __future__ import annotations

import keras

from textmodels.errors import POSITIVE_NUMBER, check, check_choice

OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
DEFAULT_LEARNING_RATES = {"adam": 1e-3, "sgd": 1.0, "rmsprop": 1e-3}


def make_optimizer(name: str = "adam", learning_rate=None, clipnorm: float | None = 5.0):
    """A Keras optimizer whose gradients are rescaled when their global norm exceeds ``clipnorm``.

    ``g ← clipnorm · g / ‖g‖`` over all trainable weights together (``global_clipnorm``), which keeps the
    direction of the update and stops one exploding step from wrecking training; ``clipnorm=None`` disables it.
    ``learning_rate`` may be a float or a Keras schedule; a rate <= 0 is refused (every trainer of the project
    builds its optimizer here).

    Example:
        >>> import keras
        >>> weight = keras.Variable([0.0, 0.0])
        >>> optimizer = make_optimizer("sgd", learning_rate=0.5, clipnorm=1.0)
        >>> optimizer.apply([keras.ops.convert_to_tensor([30.0, 40.0])], [weight])  # a gradient of norm 50
        >>> [round(float(value), 3) for value in weight.numpy()]  # clipped to norm 1, then a 0.5 step
        [-0.3, -0.4]
    """
    check_choice("optimizer", name, OPTIMIZERS)
    check("clipnorm", clipnorm, POSITIVE_NUMBER, optional=True)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        check("learning_rate", learning_rate, POSITIVE_NUMBER, optional=True)
    return OPTIMIZERS[name](
        learning_rate=DEFAULT_LEARNING_RATES[name] if learning_rate is None else learning_rate,
        global_clipnorm=clipnorm,
    )
