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

# ImageNet channel means in BGR order, as used by keras.applications.vgg16.preprocess_input ("caffe" mode).
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def vgg_preprocess(batch):
    """What ``keras.applications.vgg16.preprocess_input`` does: RGB to BGR, then subtract the ImageNet means.

    Works on NumPy arrays and backend tensors alike (written with ``keras.ops``).

    Example:
        >>> import numpy as np
        >>> out = keras.ops.convert_to_numpy(vgg_preprocess(np.full((1, 1, 1, 3), 128.0, np.float32)))
        >>> [round(float(value), 3) for value in out[0, 0, 0]]
        [24.061, 11.221, 4.32]
    """
    bgr = keras.ops.flip(keras.ops.cast(batch, "float32"), axis=-1)
    return bgr - keras.ops.convert_to_tensor(VGG_MEAN_BGR, dtype="float32")


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
