"""Text classification: `TextClassifier` (raw texts in, labels out; fit, evaluate, predict, save, load) and the
Keras networks inside it, `TextRNN` and `TextCNN`, both `LabeledTextModel` subclasses that carry their text
preprocessing and label names in one `.keras` file.

Example:
    >>> from textmodels.classification import TextClassifier
    >>> TextClassifier(embedding_dim=8, units=4).model_kind
    'textrnn'
"""

from textmodels.classification.label_encoding import UnknownLabelError
from textmodels.classification.labeled_text_model import LabeledTextModel
from textmodels.classification.prediction import Prediction
from textmodels.classification.text_classifier import TextClassifier
from textmodels.classification.text_cnn import TextCNN
from textmodels.classification.text_rnn import TextRNN

__all__ = ["LabeledTextModel", "Prediction", "TextCNN", "TextClassifier", "TextRNN", "UnknownLabelError"]
