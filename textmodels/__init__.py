"""Recurrent sequence models for text on Keras 3: the shared layers, text pipeline, classifiers, taggers and
language models that the `captioner` package builds on."""

__version__ = "0.1.0"
