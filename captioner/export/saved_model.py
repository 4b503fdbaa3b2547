"""Export a captioner as a TensorFlow SavedModel that captions encoded images with TensorFlow alone.

The ``serve`` signature takes a batch of encoded images (JPEG or PNG bytes; GIF and BMP work too) and returns,
per image, the ``num_captions`` best beam-search captions with their scores, searched with the model's stored
decoding settings (beam width, length penalty, caption length, n-gram blocking; each overridable when exporting)
so the SavedModel captions as ``Captioner.caption`` does. Everything runs in the graph:
decoding and resizing (`captioner.export.graph_images`), the image encoder, beam search in a
``tf.while_loop`` (`captioner.export.graph_beam_search`, the same search as ``Captioner.caption``) and the
id-to-word lookup with the Treebank detokenizer (`captioner.export.graph_text`). Loading needs neither this
package nor Keras::

    serving = tf.saved_model.load("captioner_savedmodel").signatures["serve"]
    out = serving(images=tf.constant([open("photo.jpg", "rb").read()]))
    out["captions"][0, 0].numpy().decode(), float(out["scores"][0, 0])

Example:
    >>> import tempfile
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
    >>> out_dir = export_saved_model(model, tempfile.mkdtemp() + "/savedmodel", beam_size=2, num_captions=2)
    >>> sorted(path.name for path in out_dir.iterdir())
    ['assets', 'fingerprint.pb', 'saved_model.pb', 'variables']
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from captioner.serving.settings import ServingSettings
from textmodels.atomic_files import sync_folder, sync_tree
from textmodels.errors import ConfigurationError

SIGNATURE_NAME = "serve"


def serving_function(model, num_captions: int | None = None, max_pixels: int = ServingSettings.max_pixels,
                     **decoding):
    """A ``tf.function`` ``images (N,) string -> {"captions", "scores", "log_probs"}`` (each ``(N, num_captions)``,
    best first; default: as many as the beam is wide) that runs ``model`` (a `captioner.model.CaptionModel`)
    entirely in TensorFlow operations, decoding with its stored settings overridden by ``decoding``
    (``beam_size``, ``length_penalty``, ``max_length``, ``min_length``, ``block_ngram``)."""
    import tensorflow as tf

    # The tokens CaptionModel.generate never emits: the same list, so both searches ban the same ones.
    from captioner.decoding_steps import NEVER_EMITTED
    from captioner.export.graph_beam_search import graph_beam_search
    from captioner.export.graph_images import decode_and_resize
    from captioner.export.graph_text import detokenizer, ids_to_text

    settings = model.decoding_settings(**decoding)
    beam_size = settings.beam_size
    num_captions = beam_size if num_captions is None else num_captions
    if not 1 <= num_captions <= beam_size:
        raise ConfigurationError(
            f"num_captions must be between 1 and the beam size ({beam_size}), got {num_captions}.")
    height, width = model.image_size
    vocabulary = model.text_encoder.vocabulary
    tokens = list(vocabulary.tokens)
    detokenize = detokenizer(model.text_encoder.tokenizer)
    max_length = settings.max_length + 1  # decoding steps: every word, then <eos>

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    def serve(images):
        pixels = tf.map_fn(lambda data: decode_and_resize(data, (height, width), max_pixels), images,
                           fn_output_signature=tf.TensorSpec([height, width, 3], tf.float32))
        if model.image_blind:
            features = tf.zeros((tf.shape(images)[0], model.feature_dim))
        else:
            features = model.encoder(pixels, training=False)
        hypotheses = graph_beam_search(
            model.decoder, features, bos_id=vocabulary.bos_id, eos_id=vocabulary.eos_id,
            banned_ids=NEVER_EMITTED, max_length=max_length, beam_size=beam_size, num_return=num_captions,
            length_penalty=settings.length_penalty, min_length=settings.min_length,
            block_ngram=settings.block_ngram, eos_at_max_length=True)
        return {
            "captions": ids_to_text(hypotheses.tokens, hypotheses.lengths, tokens, detokenize),
            "scores": hypotheses.scores,
            "log_probs": hypotheses.log_probs,
        }

    return serve


def export_saved_model(
    model,
    out_dir: str | Path,
    num_captions: int | None = None,
    max_pixels: int = ServingSettings.max_pixels,
    **decoding,
) -> Path:
    """Write ``model`` (a `CaptionModel`, or the path of a captioner ``.keras`` file) as a SavedModel in ``out_dir``,
    its search decoding with the model's stored settings overridden by ``decoding`` (see `serving_function`).

    The folder is written beside ``out_dir``, synced to disk and renamed into place, so an interrupted export
    never leaves half a SavedModel; an existing SavedModel there is replaced, any other non-empty folder is
    refused. (A crash between the two renames of a replacement leaves the older export in the hidden
    ``.OUT_DIR.*`` folder beside it, not at ``out_dir``.)
    """
    import keras

    from captioner.api import Captioner
    from captioner.model import CaptionModel

    if not isinstance(model, CaptionModel):
        model = Captioner.load(model).model
    out_dir = Path(out_dir)
    if out_dir.exists() and not (out_dir.is_dir() and (not any(out_dir.iterdir())
                                                        or (out_dir / "saved_model.pb").is_file())):
        raise FileExistsError(f"{str(out_dir)!r} exists and is not a SavedModel folder; choose another OUT_DIR.")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE_NAME, serving_function(model, num_captions, max_pixels, **decoding))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        archive.write_out(str(staging / "savedmodel"), verbose=False)
        _replace_folder(staging / "savedmodel", out_dir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _replace_folder(new: Path, target: Path, scratch: Path) -> None:
    """Put folder ``new`` at ``target``: one rename, or two when an older export is there (moved into ``scratch``
    first, deleted with it)."""
    sync_tree(new)
    if target.exists():
        os.replace(target, scratch / "previous")
    os.replace(new, target)
    sync_folder(target.parent)
