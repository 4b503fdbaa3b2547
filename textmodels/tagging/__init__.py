"""Sequence tagging (e.g. part of speech): `SequenceTagger` (tagged sentences in, a tagger out; fit, evaluate,
tag, save, load), the Keras network `RecurrentTagger` and its per-token inputs, `TokenFeatures`.

Example:
    >>> from textmodels.tagging import TokenFeatures
    >>> TokenFeatures.fit([["The", "dog"]]).encode([["the", "cat"]])[0, :, 0].tolist()
    [5, 1]
"""

from textmodels.tagging.recurrent_tagger import RecurrentTagger
from textmodels.tagging.sequence_tagger import SequenceTagger
from textmodels.tagging.token_features import TokenFeatures

__all__ = ["RecurrentTagger", "SequenceTagger", "TokenFeatures"]
