"""The shared, serializable Keras layers: embedding, recurrent block and cells, pooling."""

from textmodels.layers.attention_pooling import AttentionPooling
from textmodels.layers.coupled_lstm_cell import CoupledLSTMCell
from textmodels.layers.first_step import with_first_step_input
from textmodels.layers.first_step_simple_rnn_cell import FirstStepSimpleRNNCell
from textmodels.layers.peephole_lstm_cell import PeepholeLSTMCell
from textmodels.layers.recurrent_block import CELLS, MERGE_MODES, RecurrentBlock, halve_mask, halve_time
from textmodels.layers.sequence_pooling import POOLING_MODES, SequencePooling, last_valid_step
from textmodels.layers.text_embedding import EMBEDDING_MODES, TextEmbedding
from textmodels.layers.token_dropout import TokenDropout

__all__ = [
    "AttentionPooling", "CELLS", "CoupledLSTMCell", "EMBEDDING_MODES", "FirstStepSimpleRNNCell", "MERGE_MODES",
    "POOLING_MODES", "PeepholeLSTMCell", "RecurrentBlock", "SequencePooling", "TextEmbedding", "TokenDropout",
    "halve_mask", "halve_time", "last_valid_step", "with_first_step_input",
]
