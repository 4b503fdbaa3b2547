"""Models built from the shared layers. Importing this package registers every model class with Keras, so
``keras.saving.load_model`` can rebuild any of our `.keras` files.

- `TextClassifier` / `SequenceTagger`: the user-facing objects (fit, evaluate, predict, save, load).
- `TextRNN`, `TextCNN`, `RecurrentTagger`: the Keras networks inside them.
- `LanguageModel`, `load_language_model`: RNN language models (training in `lm_training`, sampling in
  `lm_generation`).
"""

from textmodels.models.language_model import LanguageModel, load_language_model
from textmodels.models.sequence_tagger import SequenceTagger
from textmodels.models.tagger import RecurrentTagger
from textmodels.models.text_classifier import TextClassifier
from textmodels.models.text_cnn import TextCNN
from textmodels.models.text_rnn import TextRNN

__all__ = [
    "LanguageModel", "RecurrentTagger", "SequenceTagger", "TextCNN", "TextClassifier", "TextRNN",
    "load_language_model",
]
