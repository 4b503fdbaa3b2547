"""The in-process CIDEr-D: pycocoevalcap's numbers on the same tokens, document frequencies fitted once, the end
token, empty and non-ASCII references, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from pycocoevalcap.cider.cider import Cider

from captioner.cider_d import EOS, CiderD
from captioner.metrics import CaptionMetricsError, simple_tokenize

REFERENCES = {
    "dogs": ["Two dogs play in the snow.", "Two brown dogs are playing in deep snow", "Dogs run through the snow",
             "a dog chases another dog in the snow"],
    "bike": ["A man rides a bike down a dirt road.", "A cyclist on a muddy trail", "a man riding a bicycle"],
    "kids": ["Children play on the beach", "Three kids are playing in the sand near the water.",
             "kids at the beach", "A boy and a girl build a sandcastle", "Two children play in the sand"],
    "street": ["A crowded street at night", "People walk down a busy city street at night"],
    7: ["A woman in a red dress sits on a bench", "a lady sitting on a park bench"],
}
CANDIDATES = {
    "dogs": "two dogs play in the snow snow snow",  # repeats: the clipping matters
    "bike": "a man rides a bike",
    "kids": "",  # empty
    "street": "a zebra grazes on a savanna with a giraffe and a zebra",  # words no reference has
    7: "a woman sits on a bench in a park on a sunny day with her dog and a red bag",  # long: the penalty
}


def pycocoevalcap_scores(references, candidates, eos=False, **options) -> np.ndarray:
    """pycocoevalcap's Cider on the same tokens: `simple_tokenize`, joined by spaces (plus the end token)."""
    def tokens(text):
        return " ".join(simple_tokenize(text) + ([EOS] if eos else []))

    gts = {key: [tokens(text) for text in texts] for key, texts in references.items()}
    res = {key: [tokens(candidates[key])] for key in references}
    return Cider(**options).compute_score(gts, res)[1]


@pytest.mark.parametrize("eos", [False, True])
def test_equals_pycocoevalcap_on_the_same_tokens(eos):
    cider = CiderD(REFERENCES, eos=eos)
    ours = cider.score(list(CANDIDATES.values()), list(CANDIDATES))
    theirs = pycocoevalcap_scores(REFERENCES, CANDIDATES, eos=eos)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert (ours > 0).sum() >= 3 and ours.max() > 1  # non-trivial scores
    assert cider.corpus_score(CANDIDATES) == pytest.approx(float(np.mean(theirs)), abs=1e-6)


@pytest.mark.parametrize("sigma", [3.0, 10.0])
def test_other_penalty_widths_equal_pycocoevalcap(sigma):
    ours = CiderD(REFERENCES, sigma=sigma).score(list(CANDIDATES.values()), list(CANDIDATES))
    np.testing.assert_allclose(ours, pycocoevalcap_scores(REFERENCES, CANDIDATES, sigma=sigma), atol=1e-6)


def test_many_random_captions_equal_pycocoevalcap():
    rng = np.random.default_rng(0)
    words = "a an the dog dogs cat man woman runs run sits on in snow grass red blue two of".split()
    references = {index: [" ".join(rng.choice(words, rng.integers(1, 12))) for _ in range(rng.integers(1, 6))]
                  for index in range(60)}
    candidates = {index: " ".join(rng.choice(words, rng.integers(0, 14))) for index in references}
    ours = CiderD(references, eos=True).score(list(candidates.values()), list(candidates))
    np.testing.assert_allclose(ours, pycocoevalcap_scores(references, candidates, eos=True), atol=1e-6)


def test_document_frequencies_are_fitted_once_so_a_score_does_not_depend_on_the_batch():
    cider = CiderD(REFERENCES)
    alone = cider.score([CANDIDATES["bike"]], ["bike"])[0]
    together = cider.score([CANDIDATES["dogs"], CANDIDATES["bike"], CANDIDATES["bike"]], ["dogs", "bike", "bike"])
    assert together[1] == together[2] == pytest.approx(alone, abs=1e-12)
    # pycocoevalcap refits on the scored images only, so its score of one image changes with the others.
    subset = {key: REFERENCES[key] for key in ("bike", "dogs")}
    assert abs(pycocoevalcap_scores(subset, CANDIDATES)[0] - alone) > 0.01


def test_the_end_token_rewards_a_caption_that_ended_over_one_cut_off():
    cider = CiderD(REFERENCES, eos=True)
    text = "a man rides a bike down a dirt road"
    ended, cut_off = cider.score([text, text], ["bike", "bike"], ended=[True, False])
    assert ended > cut_off
    plain = CiderD(REFERENCES)  # without eos, `ended` changes nothing
    assert plain.score([text], ["bike"], ended=[False])[0] == plain.score([text], ["bike"])[0]


def test_score_tokens_equals_score_on_the_tokens_of_the_text():
    cider = CiderD(REFERENCES, eos=True)
    texts, keys = list(CANDIDATES.values()), list(CANDIDATES)
    np.testing.assert_array_equal(cider.score_tokens([simple_tokenize(text) for text in texts], keys),
                                  cider.score(texts, keys))


def test_references_without_words_count_as_references_that_match_nothing():
    references = {**REFERENCES, "bike": ["...", "A man rides a bike down a dirt road."], "dogs": ["!?"]}
    for eos in (False, True):
        ours = CiderD(references, eos=eos).score(list(CANDIDATES.values()), list(CANDIDATES))
        np.testing.assert_allclose(ours, pycocoevalcap_scores(references, CANDIDATES, eos=eos), atol=1e-6)
    ours = CiderD(references).score([CANDIDATES["dogs"]], ["dogs"])
    assert ours[0] == 0.0


def test_non_ascii_references_are_words_and_equal_pycocoevalcap():
    references = {"de": ["Ein Hund läuft über die Wiese.", "Zwei Hunde spielen im Schnee"],
                  "fr": ["Un café crème sur une table", "Une tasse de café"],
                  "zh": ["一只 狗 在 雪 中 奔跑", "两只 狗 在 玩"],
                  "en": ["A naïve façade", "a dog in the snow"]}
    candidates = {"de": "ein Hund läuft", "fr": "un café crème", "zh": "一只 狗 在 玩", "en": "a dog in the snow"}
    cider = CiderD(references, eos=True)
    ours = cider.score(list(candidates.values()), list(candidates))
    np.testing.assert_allclose(ours, pycocoevalcap_scores(references, candidates, eos=True), atol=1e-6)
    assert (ours > 0.5).all()
    assert simple_tokenize("Ein Hund läuft über die Wiese.") == ["ein", "hund", "läuft", "über", "die", "wiese"]


@pytest.mark.parametrize(("references", "culprit"), [
    ({}, "non-empty dict"),
    ({"a": []}, "references['a']"),
    ({"a": "a dog"}, "references['a']"),
    ({"a": ["a dog", 3]}, "references['a'] holds a int"),
])
def test_bad_references_name_the_image(references, culprit):
    with pytest.raises(CaptionMetricsError, match=culprit.replace("[", r"\[").replace("]", r"\]")):
        CiderD(references)


def test_bad_candidates_name_the_culprit():
    cider = CiderD(REFERENCES)
    with pytest.raises(CaptionMetricsError, match="image 'cats' has no references"):
        cider.score(["a cat"], ["cats"])
    with pytest.raises(CaptionMetricsError, match="2 candidates but 1 keys"):
        cider.score(["a", "b"], ["bike"])
    with pytest.raises(CaptionMetricsError, match="candidate #1 is a NoneType"):
        cider.score(["a", None], ["bike", "dogs"])
    with pytest.raises(CaptionMetricsError, match="ended flags"):
        cider.score(["a"], ["bike"], ended=[True, False])
    with pytest.raises(CaptionMetricsError, match="sigma must be a finite number > 0"):
        CiderD(REFERENCES, sigma=0)


def test_more_distinct_words_than_an_ngram_code_holds_is_a_clear_error():
    references = {index: [f"w{index}"] for index in range(70_000)}
    with pytest.raises(CaptionMetricsError, match="70,001 distinct words"):
        CiderD(references)
