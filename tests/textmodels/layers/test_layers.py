"""Every shared layer and configuration through the shared contract (`tests/layer_testing.check_layer`)."""

import keras
import pytest
from layer_testing import check_layer

from textmodels.layers import (
    AttentionPooling,
    CoupledLSTMCell,
    FirstStepSimpleRNNCell,
    PeepholeLSTMCell,
    RecurrentBlock,
    SequencePooling,
    TextEmbedding,
)

pytestmark = pytest.mark.all_backends

BLOCK_CONFIGS = [
    dict(cell="simple"),
    dict(cell="gru"),
    dict(cell="lstm"),
    dict(cell="peephole_lstm"),
    dict(cell="coupled_lstm"),
    dict(cell="lstm", bidirectional=True),
    dict(cell="gru", bidirectional=True, merge_mode="sum"),
    dict(cell="lstm", layers=2, bidirectional=True, dropout=0.2, recurrent_dropout=0.1),
    dict(cell="simple", return_sequences=False),
    dict(cell="lstm", bidirectional=True, return_sequences=False),
    dict(cell="lstm", injection_dim=3),
]


@pytest.mark.parametrize("config", BLOCK_CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_recurrent_block_contract(config, tmp_path):
    check_layer(lambda: RecurrentBlock(5, **config), tmp_path=tmp_path)


@pytest.mark.parametrize("layers", [2, 3])
def test_pyramidal_block_contract(layers, tmp_path):
    check_layer(
        lambda: RecurrentBlock(4, cell="gru", layers=layers, pyramidal=True, bidirectional=True),
        time_scale=2 ** (layers - 1),
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "make_pooling",
    [
        lambda: SequencePooling("last"),
        lambda: SequencePooling("last", directions=2),
        lambda: SequencePooling("mean"),
        lambda: SequencePooling("max"),
        lambda: SequencePooling("topk", k=3),
        lambda: AttentionPooling(6),
    ],
    ids=["last", "last-bidirectional", "mean", "max", "topk", "attention"],
)
def test_pooling_contract(make_pooling, tmp_path):
    check_layer(make_pooling, tmp_path=tmp_path)


@pytest.mark.parametrize("mode", ["rand", "non-static", "static"])
def test_embedding_contract(mode, tmp_path):
    check_layer(lambda: TextEmbedding(20, 4, mode=mode), kind="ids", tmp_path=tmp_path)


@pytest.mark.parametrize(
    "make_cell",
    [lambda: PeepholeLSTMCell(4), lambda: CoupledLSTMCell(4), lambda: FirstStepSimpleRNNCell(4)],
    ids=["peephole", "coupled", "first-step-simple"],
)
def test_cells_in_rnn_contract(make_cell, tmp_path):
    check_layer(lambda: keras.layers.RNN(make_cell(), return_sequences=True), tmp_path=tmp_path)
