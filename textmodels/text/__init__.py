"""Text pipeline: tokenizers, the vocabulary, padding and the serializable `TextEncoder`."""

from textmodels.text.padding import pad_sequences
from textmodels.text.text_encoder import TextEncoder
from textmodels.text.tokenizers import CharTokenizer, WordTokenizer, get_tokenizer
from textmodels.text.vocabulary import BOS, EOS, PAD, RESERVED, UNK, Vocabulary

__all__ = [
    "BOS", "EOS", "PAD", "RESERVED", "UNK",
    "CharTokenizer", "TextEncoder", "Vocabulary", "WordTokenizer", "get_tokenizer", "pad_sequences",
]
