"""A configurable recurrent encoder: cell type, depth, direction, pyramid, dropout and first-step input."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.errors import ConfigurationError, check_choice, check_positive_int
from textmodels.layers.coupled_lstm_cell import CoupledLSTMCell
from textmodels.layers.first_step import with_first_step_input
from textmodels.layers.peephole_lstm_cell import PeepholeLSTMCell

CELLS = ("simple", "gru", "lstm", "peephole_lstm", "coupled_lstm")
MERGE_MODES = ("concat", "sum")
_STATES_PER_LAYER = {"simple": 1, "gru": 1, "lstm": 2, "peephole_lstm": 2, "coupled_lstm": 2}
_KERAS_LAYERS = {"simple": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
_CUSTOM_CELLS = {"peephole_lstm": PeepholeLSTMCell, "coupled_lstm": CoupledLSTMCell}


def halve_time(inputs, mask=None):
    """Concatenates adjacent time steps: (batch, T, D) -> (batch, ceil(T/2), 2D); the mask is halved to match.

    Padded steps are zeroed first and an odd length gets one zero step, so how much padding a sequence had
    never changes the result. Strided slices (``[:, 0::2]`` and ``[:, 1::2]`` of the sequence with one extra
    zero step) both have ceil(T/2) steps, so no shape arithmetic is needed and symbolic shapes work.
    """
    inputs = ops.convert_to_tensor(inputs)
    if mask is not None:
        inputs = inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
    padded = ops.concatenate([inputs, ops.zeros_like(inputs[:, :1])], axis=1)
    halved = ops.concatenate([inputs[:, 0::2], padded[:, 1::2]], axis=-1)
    return halved, None if mask is None else halve_mask(mask)


def halve_mask(mask):
    """(batch, T) -> (batch, ceil(T/2)): a pair of steps is valid when either step is."""
    mask = ops.cast(mask, "bool")
    padded = ops.concatenate([mask, ops.zeros_like(mask[:, :1])], axis=1)
    return ops.logical_or(mask[:, 0::2], padded[:, 1::2])


@keras.saving.register_keras_serializable(package="textmodels")
class RecurrentBlock(keras.layers.Layer):
    """One or more recurrent layers built from a config, honouring Keras masks.

    Args:
        units: state size of every layer (and of each direction when bidirectional).
        cell: ``simple`` | ``gru`` | ``lstm`` (Keras' own layers, which keep their fused cuDNN kernels on GPU)
            | ``peephole_lstm`` | ``coupled_lstm`` (custom cells: a plain step loop).
        layers: depth of the stack; with ``bidirectional`` each layer reads both directions of the one below.
        bidirectional: run every layer forwards and backwards; ``merge_mode`` ``concat`` or ``sum`` joins them.
        pyramidal: every layer above the first reads adjacent pairs of the layer below concatenated, halving
            the time axis (and the mask) each time; needs ``layers >= 2``.
        dropout: dropout on the inputs of every layer (the non-recurrent connections).
        recurrent_dropout: dropout on the recurrent connections; any value above 0 rules out the fused kernel.
        injection_dim: size of a vector that call(..., injection=v) adds to the pre-activations of step 0 of the
            first layer only (see `with_first_step_input`); 0 disables it.
        return_sequences: return every step (masked like the input) or only the final output (for
            bidirectional layers: the forward direction's last valid step and the backward direction's first).

    Fast path: with ``cell`` ``gru`` or ``lstm``, ``recurrent_dropout=0`` and post-padded masks, Keras runs
    its fused cuDNN kernel on a GPU. Injection, dropout, stacking, pyramids and bidirectionality keep it.

    Example:
        >>> import numpy as np
        >>> block = RecurrentBlock(8, cell="gru", bidirectional=True, layers=2)
        >>> tuple(block(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 16)
        >>> tuple(RecurrentBlock(8, layers=3, pyramidal=True)(np.zeros((2, 9, 3), "float32")).shape)
        (2, 3, 8)
    """

    def __init__(
        self,
        units: int,
        cell: str = "lstm",
        layers: int = 1,
        bidirectional: bool = False,
        merge_mode: str = "concat",
        pyramidal: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        injection_dim: int = 0,
        return_sequences: bool = True,
        stateful: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("cell", cell, CELLS)
        check_choice("merge_mode", merge_mode, MERGE_MODES, kinds="modes")
        check_positive_int("units", units)
        check_positive_int("layers", layers)
        if pyramidal and layers < 2:
            raise ConfigurationError(
                "pyramidal=True needs layers >= 2: the first layer keeps the time axis, later ones halve it."
            )
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ConfigurationError(f"{name} must be in [0, 1), got {rate}.")
        if injection_dim < 0:
            raise ConfigurationError(f"injection_dim must be >= 0, got {injection_dim}.")
        self.units = units
        self.cell = cell
        self.layers = layers
        self.bidirectional = bidirectional
        self.merge_mode = merge_mode
        self.pyramidal = pyramidal
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.injection_dim = injection_dim
        self.return_sequences = return_sequences
        self.stateful = stateful
        self.supports_masking = True
        self.recurrent_layers = [self._make_layer(index) for index in range(layers)]
        self.dropout_layers = [keras.layers.Dropout(dropout) for _ in range(layers)] if dropout else []

    def _make_layer(self, index: int):
        options = dict(
            return_sequences=True,
            return_state=True,
            stateful=self.stateful,
            name=f"{self.cell}_{index}",
        )
        if self.cell in ("gru", "lstm") and self.stateful and keras.backend.backend() == "torch":
            # Keras' torch backend has its own GRU/LSTM path, whose autograd graph holds the initial state; a
            # stateful layer overwrites that state in place before the backward pass ("modified by an inplace
            # operation"). The generic step loop, which use_cudnn=False selects, trains correctly.
            options["use_cudnn"] = False
        if self.cell in _KERAS_LAYERS:
            layer = _KERAS_LAYERS[self.cell](self.units, recurrent_dropout=self.recurrent_dropout, **options)
        else:
            layer = keras.layers.RNN(
                _CUSTOM_CELLS[self.cell](self.units, recurrent_dropout=self.recurrent_dropout), **options
            )
        if self.bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode=self.merge_mode, name=f"bidirectional_{index}")
        return layer

    @property
    def states_per_layer(self) -> int:
        """How many state tensors one (unidirectional) layer carries: 2 for LSTMs (h, c), else 1."""
        return _STATES_PER_LAYER[self.cell]

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional and self.merge_mode == "concat" else 1)

    @property
    def fused_kernel_eligible(self) -> bool:
        """Whether Keras may use its fused cuDNN kernel for every layer (given a GPU and post-padding)."""
        return self.cell in ("gru", "lstm") and self.recurrent_dropout == 0.0

    def build(self, input_shape):
        batch, steps, features = input_shape
        features += self.injection_dim
        for index, layer in enumerate(self.recurrent_layers):
            if index and self.pyramidal:
                steps = None if steps is None else (steps + 1) // 2
                features *= 2
            layer.build((batch, steps, features))
            features = self.output_dim

    def call(self, inputs, mask=None, injection=None, initial_state=None, training=None, return_state=False):
        """Runs the stack.

        Args:
            inputs: (batch, time, features).
            mask: (batch, time) booleans, True for real steps (post-padding).
            injection: (batch, injection_dim) vector added at step 0 (zeros when omitted).
            initial_state: flat list of state tensors, ``states_per_layer`` per layer, first layer first
                (unidirectional blocks only).
            return_state: also return the final states in that same flat form (unidirectional only), for
                step-by-step decoding and carrying state across windows.
        """
        if (return_state or initial_state is not None) and self.bidirectional:
            raise ValueError("initial_state / return_state are for unidirectional blocks only.")
        if initial_state is not None and len(initial_state) != self.layers * self.states_per_layer:
            raise ValueError(
                f"initial_state needs {self.layers * self.states_per_layer} tensors "
                f"({self.states_per_layer} per layer x {self.layers} layers), got {len(initial_state)}."
            )
        x = inputs
        if self.injection_dim:
            if injection is None:
                injection = ops.zeros((ops.shape(inputs)[0], self.injection_dim), dtype=inputs.dtype)
            x = with_first_step_input(x, injection)
        elif injection is not None:
            raise ValueError("This block was built with injection_dim=0; it takes no injection vector.")
        final_states = []
        for index, layer in enumerate(self.recurrent_layers):
            if index and self.pyramidal:
                x, mask = halve_time(x, mask)
            if self.dropout_layers:
                x = self.dropout_layers[index](x, training=training)
            layer_state = None
            if initial_state is not None:
                first = index * self.states_per_layer
                layer_state = list(initial_state[first : first + self.states_per_layer])
            x, *states = layer(x, mask=mask, initial_state=layer_state, training=training)
            final_states.extend(states)
        outputs = x if self.return_sequences else self._final_output(final_states)
        return (outputs, final_states) if return_state else outputs

    def step(self, inputs, states, injection=None):
        """One inference step of a unidirectional, non-pyramidal block, the cells called directly: the same
        result as `call` on a one-step sequence (with ``return_state``), without the time loop around it, which
        dominates the cost of decoding one token at a time.

        Args:
            inputs: (batch, features), this step's input.
            states: the flat list of state tensors (see `call`).
            injection: (batch, injection_dim), for a block with ``injection_dim``, when this is step 0 (zeros
                when omitted: a later step).

        Returns:
            ``(outputs (batch, units), new flat states)``.

        Example:
            >>> import numpy as np
            >>> block = RecurrentBlock(4, cell="lstm", layers=2)
            >>> x, states = np.ones((3, 1, 2), "float32"), block.get_initial_state(3)
            >>> whole, whole_states = block(x, initial_state=states, return_state=True)
            >>> one, one_states = block.step(x[:, 0], states)
            >>> whole, one = ops.convert_to_numpy(whole), ops.convert_to_numpy(one)
            >>> bool(np.allclose(whole[:, 0], one, atol=1e-6)), len(one_states)
            (True, 4)
        """
        if self.bidirectional or self.pyramidal:
            raise ValueError("step() is for unidirectional, non-pyramidal blocks (a decoder's).")
        if len(states) != self.layers * self.states_per_layer:
            raise ValueError(f"states needs {self.layers * self.states_per_layer} tensors, got {len(states)}.")
        if not self.built:  # the cells are called directly below, which does not build them
            self.build((None, 1, inputs.shape[-1]))
        x = inputs
        if self.injection_dim:
            if injection is None:
                injection = ops.zeros((ops.shape(inputs)[0], self.injection_dim), dtype=inputs.dtype)
            x = ops.concatenate([x, ops.cast(injection, x.dtype)], axis=-1)
        elif injection is not None:
            raise ValueError("This block was built with injection_dim=0; it takes no injection vector.")
        new_states = []
        per_layer = self.states_per_layer
        for index, layer in enumerate(self.recurrent_layers):
            x, layer_states = layer.cell.call(x, list(states[index * per_layer : (index + 1) * per_layer]),
                                         training=False)
            new_states.extend(layer_states if isinstance(layer_states, (list, tuple)) else [layer_states])
        return x, new_states

    def _final_output(self, final_states):
        per_direction = self.states_per_layer
        last_layer_states = final_states[-per_direction * (2 if self.bidirectional else 1):]
        if not self.bidirectional:
            return last_layer_states[0]
        forward, backward = last_layer_states[0], last_layer_states[per_direction]
        return ops.concatenate([forward, backward], axis=-1) if self.merge_mode == "concat" else forward + backward

    def compute_mask(self, inputs, mask=None):
        if mask is None or not self.return_sequences:
            return None
        if self.pyramidal:
            for _ in range(self.layers - 1):
                mask = halve_mask(mask)
        return mask

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        if not self.return_sequences:
            return (batch, self.output_dim)
        if self.pyramidal and steps is not None:
            for _ in range(self.layers - 1):
                steps = (steps + 1) // 2
        return (batch, steps, self.output_dim)

    def get_initial_state(self, batch_size: int):
        """Zero states in the flat form `call` takes (unidirectional blocks)."""
        return [ops.zeros((batch_size, self.units)) for _ in range(self.layers * self.states_per_layer)]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "cell": self.cell,
            "layers": self.layers,
            "bidirectional": self.bidirectional,
            "merge_mode": self.merge_mode,
            "pyramidal": self.pyramidal,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "injection_dim": self.injection_dim,
            "return_sequences": self.return_sequences,
            "stateful": self.stateful,
        }
