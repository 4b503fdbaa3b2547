"""Text classification: `TextClassifier` (raw texts in, labels out; fit, evaluate, predict, save, load) and the
Keras networks inside it, `TextRNN`, `TextCNN` and `TextBag`, all `LabeledTextModel` subclasses that carry their
text preprocessing and label names in one `.keras` file.

Example:
    >>> from textmodels.classification import TextClassifier
    >>> classifier = TextClassifier(embedding_dim=8, units=4)
    >>> _ = classifier.fit(["good film", "bad film"] * 4, ["pos", "neg"] * 4, epochs=1, verbose=0)
    >>> classifier.model_kind  # "auto" chose for these short texts
    'textrnn'
"""

from textmodels.classification.label_encoding import UnknownLabelError
from textmodels.classification.labeled_text_model import LabeledTextModel
from textmodels.classification.prediction import Prediction
from textmodels.classification.text_bag import TextBag
from textmodels.classification.text_classifier import TextClassifier
from textmodels.classification.text_cnn import TextCNN
from textmodels.classification.text_rnn import TextRNN

__all__ = ["LabeledTextModel", "Prediction", "TextBag", "TextCNN", "TextClassifier", "TextRNN", "UnknownLabelError"]
