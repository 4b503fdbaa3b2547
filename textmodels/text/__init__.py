"""Text pipeline: tokenizers, the vocabulary, the one packing rule (`pack_ids`) and the serializable `TextEncoder`."""

from textmodels.text.packing import pack_ids
from textmodels.text.text_encoder import TextEncoder
from textmodels.text.tokenizers import CharTokenizer, WordTokenizer, get_tokenizer
from textmodels.text.vocabulary import BOS, EOS, PAD, RESERVED, UNK, Vocabulary

__all__ = [
    "BOS", "EOS", "PAD", "RESERVED", "UNK",
    "CharTokenizer", "TextEncoder", "Vocabulary", "WordTokenizer", "get_tokenizer", "pack_ids",
]
