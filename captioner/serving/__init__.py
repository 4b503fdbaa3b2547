"""Serving captions over HTTP: a web page and an API with dynamic batching.

- `captioner.serving.server.serve`: ``captioner serve MODEL.keras`` - FastAPI on uvicorn, the model loaded
  once, concurrent requests batched through the encoder and the decoder (`captioner.serving.batcher`).

The SavedModel export lives in `captioner.export`. The submodules import FastAPI and uvicorn only when used.
"""
