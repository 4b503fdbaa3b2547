"""Streaming input: photos read from paths batch by batch (same batches as in memory), bad photos skipped and
counted, batches cut to their longest caption, cached features with holes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captioner.config import CaptionerConfig
from captioner.data.images import load_image
from captioner.data.pipeline import caption_batches, image_batches
from captioner.data.records import CaptionRecord
from captioner.training import build_captioner, caption_examples, train_captioner, training_inputs


def _photos(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        path = folder / f"photo_{index}.png"
        Image.fromarray(rng.integers(0, 256, (12 + index, 20, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_streamed_batches_equal_the_in_memory_ones(tmp_path):
    paths = _photos(tmp_path, 5)
    captions = np.tile(np.array([[[2, 7, 8, 3, 0, 0]]], np.int32), (5, 2, 1))
    in_memory = np.stack([load_image(path, size=(8, 8)) for path in paths])
    streamed = list(caption_batches(paths, captions, 2, image_size=(8, 8)).as_numpy_iterator())
    assert [len(inputs["images"]) for inputs, _ in streamed] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([inputs["images"] for inputs, _ in streamed]), in_memory)
    reference = list(caption_batches(in_memory, captions, 2).as_numpy_iterator())
    for (inputs, targets), (expected_inputs, expected_targets) in zip(streamed, reference):
        np.testing.assert_array_equal(inputs["tokens"], expected_inputs["tokens"])
        np.testing.assert_array_equal(targets, expected_targets)
        np.testing.assert_array_equal(inputs["images"], expected_inputs["features"])


def test_the_dataset_holds_paths_and_reads_pixels_when_iterated(tmp_path):
    paths = _photos(tmp_path, 3)
    captions = np.zeros((3, 1, 4), np.int32)
    captions[:, 0, :3] = [2, 5, 3]
    dataset = caption_batches(paths, captions, 3, image_size=(4, 4))
    # Replacing a photo after the dataset was built changes what it yields: it never captured the pixels.
    Image.new("RGB", (4, 4), (10, 200, 30)).save(paths[0])
    inputs, _ = next(iter(dataset))
    np.testing.assert_array_equal(np.asarray(inputs["images"])[0], np.tile([10.0, 200.0, 30.0], (4, 4, 1)))


def test_unreadable_photos_are_skipped_and_recorded(tmp_path):
    paths = _photos(tmp_path, 3)
    paths[1].write_bytes(b"this is not a PNG")
    unreadable: dict = {}
    captions = np.zeros((3, 1, 4), np.int32)
    captions[:, 0, :3] = [2, 5, 3]
    inputs, targets = next(iter(caption_batches(paths, captions, 8, image_size=(4, 4), unreadable=unreadable)))
    # The bad photo keeps its row (fit() needs a dataset of known length) but nothing of it is scored.
    assert len(inputs["images"]) == 3 and np.asarray(targets)[1].max() == 0 and np.asarray(targets)[0].max() > 0
    assert list(unreadable) == [str(paths[1])] and "photo_1.png" in unreadable[str(paths[1])]
    seen: dict = {}
    indices = [batch[0].tolist() for batch in image_batches(paths, (4, 4), 2, unreadable=seen).as_numpy_iterator()]
    assert indices == [[0, 2]] and list(seen) == [str(paths[1])]


def test_batches_are_cut_to_their_longest_caption():
    captions = np.zeros((2, 2, 10), np.int32)
    captions[0, 0, :4] = [2, 5, 6, 3]
    captions[1, 1, :3] = [2, 5, 3]
    inputs, targets = next(iter(caption_batches(np.ones((2, 3), np.float32), captions, 2)))
    assert tuple(inputs["tokens"].shape) == (2, 2, 3) and tuple(targets.shape) == (2, 2, 3)
    np.testing.assert_array_equal(np.asarray(targets)[0, 0], [5, 6, 3])


def _records(paths, split="train"):
    words = ["red", "blue", "green"]
    return [CaptionRecord(str(index), path, split, (f"a {words[index % 3]} photo", "a photo"))
            for index, path in enumerate(paths)]


def test_end_to_end_training_skips_an_unreadable_photo_with_a_count(tmp_path):
    paths = _photos(tmp_path, 6)
    paths[2].write_bytes(b"")
    config = CaptionerConfig(image_size=8, conv_filters=(4,), feature_dim=8, units=8, embedding_dim=4, epochs=1,
                             min_count=1, batch_size=4, patience=None)
    with pytest.warns(UserWarning, match=r"1 photo\(s\) could not be read and were skipped.*photo_2.png"):
        result = train_captioner(_records(paths), config, verbose=0)
    assert np.isfinite(result.history["loss"][0])


def test_records_without_cached_features_are_left_out_with_a_warning(tmp_path):
    records = _records([tmp_path / f"{index}.png" for index in range(4)])
    config = CaptionerConfig(image_size=8, conv_filters=(4,), feature_dim=3, min_count=1)
    model = build_captioner(records, config)
    features = {"0": np.ones(3, np.float32), "2": np.zeros(3, np.float32)}
    with pytest.warns(UserWarning, match="2 of 4 images have no cached features"):
        kept, inputs, image_size = training_inputs(records, model, features)
    assert [record.image_id for record in kept] == ["0", "2"] and inputs.shape == (2, 3) and image_size is None
    assert caption_examples(kept, model).shape[0] == 2
