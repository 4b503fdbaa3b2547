"""Each ImageNet backbone's own input preprocessing, as a layer inside the model (so it travels in the file).

``keras.applications`` networks expect their inputs prepared the way they were trained: ``"caffe"`` (VGG16,
VGG19, ResNet50: RGB to BGR, then the ImageNet channel means subtracted) or ``"tf"`` (MobileNetV2: scaled to
-1..1). A captioner always receives RGB pixels in 0..255; this layer does the rest.

Example:
    >>> import numpy as np
    >>> out = ImageNetPreprocessing("tf")(np.array([[[[0.0, 127.5, 255.0]]]], "float32"))
    >>> keras.ops.convert_to_numpy(out)[0, 0, 0].tolist()
    [-1.0, 0.0, 1.0]
"""

from __future__ import annotations

import keras

from captioner.encoder.images import vgg_preprocess

PREPROCESSING_MODES = ("caffe", "tf")


@keras.saving.register_keras_serializable(package="captioner")
class ImageNetPreprocessing(keras.layers.Layer):
    """RGB images in 0..255 -> the input a backbone trained in ``mode`` (``"caffe"`` or ``"tf"``) expects.

    Example:
        >>> import numpy as np
        >>> out = ImageNetPreprocessing("caffe")(np.full((1, 1, 1, 3), 128.0, "float32"))
        >>> [round(float(value), 2) for value in keras.ops.convert_to_numpy(out)[0, 0, 0]]
        [24.06, 11.22, 4.32]
    """

    def __init__(self, mode: str = "caffe", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESSING_MODES:
            raise ValueError(f"Unknown preprocessing mode {mode!r}; valid modes: {', '.join(PREPROCESSING_MODES)}.")
        self.mode = mode

    def call(self, images):
        if self.mode == "caffe":
            return vgg_preprocess(images)
        return keras.ops.cast(images, "float32") / 127.5 - 1.0

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
