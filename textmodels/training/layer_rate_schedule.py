"""The callback that moves a `LayerwiseAdam` to each epoch's layer factors."""

from __future__ import annotations

import keras


class LayerRateSchedule(keras.callbacks.Callback):
    """At the start of every epoch, sets the model's `LayerwiseAdam` factors for that epoch (gradual unfreezing
    opens one more group per epoch); does nothing for another optimizer.

    Example:
        >>> from textmodels.training.layerwise_adam import LayerwiseAdam
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="dense")])
        >>> model.compile(LayerwiseAdam(["dense/"], gradual_unfreezing=True), "mse")
        >>> model.optimizer.build(model.trainable_variables)
        >>> schedule = LayerRateSchedule()
        >>> schedule.set_model(model)
        >>> schedule.on_epoch_begin(1)
        >>> keras.ops.convert_to_numpy(model.optimizer.rate_factors).tolist()
        [1.0]
    """

    def on_epoch_begin(self, epoch, logs=None):
        start_epoch = getattr(self.model.optimizer, "start_epoch", None)
        if start_epoch is not None:
            if not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)
            start_epoch(epoch)
