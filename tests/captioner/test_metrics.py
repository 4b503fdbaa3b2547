"""Caption metrics: pycocoevalcap wrapper (with and without Java), cross-checked against NLTK's BLEU on real
Flickr8k captions."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import warnings

import pytest
from nltk.translate.bleu_score import corpus_bleu

from captioner import metrics
from captioner.metrics import BLEU_KEYS, CaptionMetricsError, caption_metrics, simple_tokenize

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="METEOR and the PTB tokenizer need Java")
NUMERIC_KEYS = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider")

REFERENCES = {
    "dog.jpg": ["A brown dog runs across the green grass.", "A dog is running on a lawn."],
    "kids.jpg": ["Two children are building a sandcastle on the beach.", "Kids play in the sand by the sea."],
    "bike.jpg": ["A man in a red helmet rides a mountain bike.", "A cyclist rides down a dirt trail."],
}


def nltk_corpus_bleu(references, hypotheses) -> dict:
    """An independent BLEU-1..4 (NLTK, no smoothing, closest reference length) on `simple_tokenize` tokens."""
    keys = list(references)
    tokenized_refs = [[simple_tokenize(ref) for ref in references[key]] for key in keys]
    tokenized_hyps = [simple_tokenize(hypotheses[key]) for key in keys]
    weights = [tuple([1.0 / n] * n) for n in range(1, 5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # NLTK warns when some n-gram order has no match
        values = corpus_bleu(tokenized_refs, tokenized_hyps, weights=weights)
    return {key: float(value) for key, value in zip(BLEU_KEYS, values)}


@pytest.fixture(scope="module")
def flickr_sample(shared_data):
    """50 Flickr8k images: the first caption of each becomes the hypothesis, the other four the references."""
    data = json.loads((shared_data / "flickr8k_1k" / "captions_flickr8k_1k.json").read_text())
    captions: dict[int, list[str]] = {}
    for annotation in data["annotations"]:
        captions.setdefault(annotation["image_id"], []).append(annotation["caption"])
    ids = sorted(captions)[:50]
    references = {image_id: captions[image_id][1:] for image_id in ids}
    held_out = {image_id: captions[image_id][0] for image_id in ids}
    # Each image gets the held-out caption of the next one: fluent but describing the wrong photo.
    shuffled = {image_id: held_out[ids[(index + 1) % len(ids)]] for index, image_id in enumerate(ids)}
    return references, held_out, shuffled


def test_identical_hypotheses_score_perfect_bleu_and_high_cider():
    hypotheses = {key: refs[0] for key, refs in REFERENCES.items()}
    scores = caption_metrics(REFERENCES, hypotheses, use_java=False)
    for key in ("bleu1", "bleu2", "bleu3", "bleu4"):
        assert scores[key] == pytest.approx(1.0, abs=1e-6)
    assert scores["rouge_l"] == pytest.approx(1.0)
    assert scores["cider"] > 3.0


def test_wrong_captions_score_lower_on_every_metric(flickr_sample):
    references, held_out, shuffled = flickr_sample
    right = caption_metrics(references, held_out, use_java=False)
    wrong = caption_metrics(references, shuffled, use_java=False)
    for key in NUMERIC_KEYS:
        assert wrong[key] < right[key], key
    assert right["cider"] > 2 * wrong["cider"]


def test_without_java_meteor_is_none_with_a_warning(monkeypatch):
    hypotheses = {key: "a dog runs" for key in REFERENCES}
    monkeypatch.setattr(metrics.shutil, "which", lambda name: None)
    scores = caption_metrics(REFERENCES, hypotheses)
    assert scores["meteor"] is None
    assert len(scores["warnings"]) == 1 and "java" in scores["warnings"][0].lower()
    assert all(0.0 <= scores[key] for key in NUMERIC_KEYS)
    explicit = caption_metrics(REFERENCES, hypotheses, use_java=False)
    assert "use_java=False" in explicit["warnings"][0]


def test_empty_hypothesis_is_allowed_and_scores_zero_overlap():
    hypotheses = {"dog.jpg": "", "kids.jpg": "two children on the beach", "bike.jpg": "..."}
    scores = caption_metrics(REFERENCES, hypotheses, use_java=False)
    assert 0.0 < scores["bleu1"] < 1.0


def test_mismatched_ids_are_named():
    hypotheses = {"dog.jpg": "a dog", "kids.jpg": "kids", "cat.jpg": "a cat"}
    with pytest.raises(CaptionMetricsError, match=r"'bike.jpg'.*'cat.jpg'"):
        caption_metrics(REFERENCES, hypotheses, use_java=False)


@pytest.mark.parametrize(
    ("references", "hypotheses", "culprit"),
    [
        ({}, {}, "empty"),
        ({1: "a dog"}, {1: "a dog"}, r"references\[1\]"),
        ({1: []}, {1: "a dog"}, r"references\[1\]"),
        ({1: ["a dog", 3]}, {1: "a dog"}, r"references\[1\]"),
        ({1: ["a dog"]}, {1: ["a dog"]}, r"hypotheses\[1\]"),
        ([["a dog"]], {0: "a dog"}, "dicts"),
    ],
)
def test_malformed_input_raises(references, hypotheses, culprit):
    with pytest.raises(CaptionMetricsError, match=culprit):
        caption_metrics(references, hypotheses, use_java=False)


def test_simple_tokenizer_strips_punctuation_and_splits_clitics():
    assert simple_tokenize("The dog's ball, RED!") == ["the", "dog", "'s", "ball", "red"]
    assert simple_tokenize("A man doesn't wear a t-shirt .") == ["a", "man", "does", "n't", "wear", "a", "t-shirt"]


@needs_java
def test_coco_pipeline_runs_meteor_quietly_and_nltk_bleu_is_close(flickr_sample, capfd):
    references, held_out, _ = flickr_sample
    capfd.readouterr()
    coco = caption_metrics(references, held_out, use_java=True)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    assert coco["warnings"] == []
    assert 0.1 < coco["meteor"] < 0.6
    assert coco["bleu1"] > coco["bleu2"] > coco["bleu3"] > coco["bleu4"] > 0
    assert 0.0 < coco["cider"] < 10.0

    nltk_scores = nltk_corpus_bleu(references, held_out)
    java_free = caption_metrics(references, held_out, use_java=False)
    for key in ("bleu1", "bleu2", "bleu3", "bleu4"):
        # Against the PTB-tokenized COCO figure: tokenization is the only real difference.
        assert abs(nltk_scores[key] - coco[key]) < 0.02, key
        # With the same tokens, NLTK and pycocoevalcap differ only by the latter's 1e-15 smoothing.
        assert abs(nltk_scores[key] - java_free[key]) < 1e-6, key


@needs_java
def test_a_dead_meteor_process_raises_a_clear_error(monkeypatch):
    class BrokenMeteor(metrics.Meteor):
        def __init__(self):
            self.meteor_p = subprocess.Popen(
                ["java", "-jar", "no-such-meteor.jar"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            self.meteor_p.wait()
            self.lock = threading.Lock()

    monkeypatch.setattr(metrics, "Meteor", BrokenMeteor)
    with pytest.raises(CaptionMetricsError, match="METEOR"):
        caption_metrics(REFERENCES, {key: "a dog" for key in REFERENCES})
