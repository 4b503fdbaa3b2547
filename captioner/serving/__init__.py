"""Serving captions: a web page and HTTP API with dynamic batching, and a SavedModel export that needs only TF.

- `captioner.serving.server.serve`: ``captioner serve MODEL.keras`` - FastAPI on uvicorn, the model loaded
  once, concurrent requests batched through the encoder and the decoder (`captioner.serving.batcher`).
- `captioner.serving.export.export_saved_model`: ``captioner export MODEL.keras OUT_DIR`` - decoding, resizing,
  the encoder, beam search and the id-to-word lookup as one TensorFlow graph.

The submodules import TensorFlow, FastAPI and uvicorn only when used.
"""
