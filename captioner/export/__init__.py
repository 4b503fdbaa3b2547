"""A SavedModel that captions with TensorFlow alone: ``captioner export MODEL.keras --out-dir DIR``.

- `captioner.export.saved_model.export_saved_model`: decoding, resizing, the encoder, beam search and the
  id-to-word lookup as one TensorFlow graph.
- `captioner.export.graph_images`, `graph_beam_search`, `graph_text`: those steps as TensorFlow ops.

The submodules import TensorFlow only when used.
"""
