"""CIDEr-D in-process and vectorised: the reward of self-critical training, and a validation score without Java.

The numbers are pycocoevalcap's CIDEr-D (``pycocoevalcap/cider/cider_scorer.py``, the ``Cider`` metric of the COCO
caption evaluation) on the same tokens: n-grams of orders 1..4 as tf-idf vectors, ``idf = log(N) - log(max(1,
df))`` with ``df`` the number of images whose references hold the n-gram and ``N`` the number of images; per
order the clipped cosine ``sum_g min(h_g, r_g) * r_g / (|h| |r|)`` times the Gaussian length penalty
``exp(-(l_h - l_r)^2 / (2 * 6^2))`` (``l`` counts a caption's bigrams, as pycocoevalcap does); averaged over the
orders, summed over the references and divided by their number, times 10.

How it differs from calling pycocoevalcap:

- The document frequencies are fitted once, from the references given to `CiderD` (the training references, for a
  reward): every later call scores with the same ``df``. pycocoevalcap refits them from the references of each
  call, so scoring every image of the fitted set gives exactly its numbers.
- Text is tokenised by `captioner.metrics.simple_tokenize` (lower case, punctuation dropped, clitics split), the
  Java-free stand-in for the PTB tokenizer that `captioner.metrics.caption_metrics` runs before pycocoevalcap.
  They agree token for token on 39,959 of Flickr8k's 40,000 captions; the others differ by symbols PTB keeps as
  tokens (``#``, ``&``, brackets as ``-lrb-``) and abbreviations PTB keeps whole (``mr.``, ``jr.``,
  ``s.c.u.b.a.``), which are dropped or split here. On the 1,000 test photos (first caption against the other
  four) CIDEr-D is 0.7886 with PTB tokens and 0.7887 with these. Letters outside ASCII are letters (``café`` is
  one word), lower-cased by Python's ``str.lower``, with no Unicode normalisation (as PTB).
- ``eos=True`` appends an end token to every reference and to every candidate that ended (`score`'s ``ended``),
  as self-critical training does (Rennie et al. 2017; ``<eos>`` in the references and in finished samples, as the
  widest PyTorch captioning codebase scores them): the reward then sees how a caption ends, and a caption cut off
  at the length limit is told apart from one that finished.

An image needs at least one reference (a `captioner.metrics.CaptionMetricsError` names it otherwise); a reference
with no word (``"..."``) is kept as pycocoevalcap keeps it: it counts among the image's references and matches
nothing (with ``eos=True`` it is the end token alone).

Vectorised: every word gets an integer id once; an n-gram of ids is packed into one 64-bit integer (16 bits per
word, so at most 65,535 distinct words per call); the references' n-grams, document frequencies, norms and
lengths are computed once at construction, and a batch of candidates costs a few NumPy sorts and searches.

Example:
    >>> cider = CiderD({"cat.jpg": ["A cat sits on a mat.", "a cat on the mat"],
    ...                 "dog.jpg": ["A dog runs on the grass.", "a brown dog running"]})
    >>> [round(float(value), 3) for value in cider.score(["a cat on a mat", "a dog"], ["cat.jpg", "dog.jpg"])]
    [4.578, 1.761]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from captioner.metrics import CaptionMetricsError, simple_tokenize

EOS = "<eos>"  # never a `simple_tokenize` token, so it cannot collide with a word
ORDERS = 4  # n-grams of 1..4 words (pycocoevalcap's scorer only works with 4)
_BITS = 16
_MAX_WORD_IDS = 2**_BITS - 1  # id 0 is never used, so a shorter n-gram never packs like a longer one
_ORDER_BOUNDS = np.array([2**_BITS, 2 ** (2 * _BITS), 2 ** (3 * _BITS)], np.uint64)


class CiderD:
    """CIDEr-D of candidate captions against the references of their images, with document frequencies fitted
    once from ``references`` (``{image key: [reference text, ...]}``).

    Args:
        references: every image's reference captions (raw text; tokenised with `simple_tokenize`).
        sigma: spread of the Gaussian length penalty (pycocoevalcap's 6).
        eos: append an end token to the references and to the candidates that ended (the self-critical reward);
            False (default) scores exactly as the COCO evaluation does.

    Example:
        >>> cider = CiderD({1: ["a red circle above a blue square"], 2: ["a green triangle"]}, eos=True)
        >>> scores = cider.score(["a red circle above a blue square", "a red circle above a blue square"], [1, 1],
        ...                      ended=[True, False])
        >>> bool(scores[0] > scores[1])  # the same words, but only the first one ended
        True
    """

    def __init__(self, references: Mapping[Hashable, Sequence[str]], *, sigma: float = 6.0, eos: bool = False):
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma <= 0:
            raise CaptionMetricsError(f"sigma must be a finite number > 0, got {sigma!r}")
        if not isinstance(references, Mapping) or not references:
            raise CaptionMetricsError("references must be a non-empty dict {image key: [reference, ...]}")
        self.sigma, self.eos = float(sigma), bool(eos)
        self.keys = list(references)
        self._image_of_key = {key: index for index, key in enumerate(self.keys)}
        self._word_ids: dict[str, int] = {EOS: 1}
        token_lists = []
        counts = np.zeros(len(self.keys), np.int64)
        for image, (key, texts) in enumerate(references.items()):
            if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
                raise CaptionMetricsError(f"references[{key!r}] must be a non-empty list of strings, got {texts!r}")
            for text in texts:
                if not isinstance(text, str):
                    raise CaptionMetricsError(f"references[{key!r}] holds a {type(text).__name__}, not a string")
                token_lists.append(simple_tokenize(text) + ([EOS] if self.eos else []))
            counts[image] = len(texts)
        for tokens in token_lists:
            for token in tokens:
                self._word_ids.setdefault(token, len(self._word_ids) + 1)
        if len(self._word_ids) > _MAX_WORD_IDS:
            raise CaptionMetricsError(f"the references hold {len(self._word_ids):,} distinct words; CiderD packs "
                                      f"an n-gram into 64 bits, which allows at most {_MAX_WORD_IDS:,}")
        self._references_per_image = counts
        self._first_reference = np.concatenate([[0], np.cumsum(counts)[:-1]])
        image_of_reference = np.repeat(np.arange(len(self.keys)), counts)
        reference, ngram, self._codes, orders, tf = self._ngram_counts(*self._word_array(token_lists))

        # Document frequency: in how many images' references each distinct n-gram occurs.
        # (With counts: NumPy 2.4's unique without extra outputs takes a hash path, 100x slower on this array.)
        self._image_ngrams = np.unique(image_of_reference[reference] * len(self._codes) + ngram, return_counts=True)[0]
        document_frequency = np.bincount(self._image_ngrams % len(self._codes), minlength=len(self._codes)) \
            if len(self._codes) else np.zeros(0, np.int64)
        self._log_images = math.log(len(self.keys))
        self._idf = self._log_images - np.log(np.maximum(1.0, document_frequency))
        # (reference, n-gram id) keys: sorted, since the counts come sorted by reference, then code.
        self._reference_keys = reference * len(self._codes) + ngram
        self._reference_tf = tf
        self._reference_norms = self._norms(reference, orders, tf * self._idf[ngram], len(token_lists))
        self._reference_lengths = self._bigram_counts(reference, orders, tf, len(token_lists))

    def score(self, candidates: Sequence[str], keys: Sequence[Hashable],
              ended: Sequence[bool] | None = None) -> np.ndarray:
        """CIDEr-D of each candidate text against the references of the image ``keys[i]``: a float64 array.

        ``ended`` (with ``eos=True``): which candidates finished with the end token (default: all); ignored
        without ``eos``.

        Example:
            >>> cider = CiderD({"a": ["two dogs play in the snow"], "b": ["a man rides a bike"]})
            >>> cider.score(["two dogs play in the snow", "a man rides a bike"], ["a", "b"]).round(3).tolist()
            [10.0, 10.0]
        """
        if isinstance(candidates, str):
            raise CaptionMetricsError("candidates must be a list of texts (one per candidate), not a string")
        for position, text in enumerate(candidates):
            if not isinstance(text, str):
                raise CaptionMetricsError(f"candidate #{position} is a {type(text).__name__}, not a string")
        return self.score_tokens([simple_tokenize(text) for text in candidates], keys, ended)

    def score_tokens(self, candidates: Sequence[Sequence[str]], keys: Sequence[Hashable],
                     ended: Sequence[bool] | None = None) -> np.ndarray:
        """`score` for candidates already tokenised (lists of `simple_tokenize` tokens, or pycocoevalcap's input
        split at white space).

        Example:
            >>> cider = CiderD({"a": ["two dogs play in the snow"], "b": ["a man rides a bike"]})
            >>> cider.score_tokens([["two", "dogs", "play"]], ["a"]).round(3).tolist()
            [4.059]
        """
        if isinstance(keys, str):
            raise CaptionMetricsError("keys must be a list (one image key per candidate), not a string")
        if len(candidates) != len(keys):
            raise CaptionMetricsError(f"{len(candidates)} candidates but {len(keys)} keys")
        if ended is not None and len(ended) != len(candidates):
            raise CaptionMetricsError(f"{len(candidates)} candidates but {len(ended)} ended flags")
        images = np.fromiter(map(self._image_of_key.get, keys), object, len(keys))
        if any(image is None for image in images):
            position = next(index for index, image in enumerate(images) if image is None)
            raise CaptionMetricsError(f"candidate #{position}: image {keys[position]!r} has no references in "
                                      "this CiderD")
        if self.eos:
            candidates = [[*tokens, EOS] if ended is None or ended[position] else tokens
                          for position, tokens in enumerate(candidates)]
        return self._score(*self._word_array(candidates), images.astype(np.int64))

    def corpus_score(self, hypotheses: Mapping[Hashable, str]) -> float:
        """The mean CIDEr-D of one hypothesis per image (what the COCO evaluation reports as CIDEr-D).

        Example:
            >>> cider = CiderD({"a": ["a dog runs"], "b": ["a cat sleeps"]})
            >>> round(cider.corpus_score({"a": "a dog runs", "b": "a dog sleeps"}), 3)  # (7.5 + 1.25) / 2
            4.375
        """
        if not isinstance(hypotheses, Mapping) or not hypotheses:
            raise CaptionMetricsError("hypotheses must be a non-empty dict {image key: caption}")
        return float(np.mean(self.score(list(hypotheses.values()), list(hypotheses))))

    def _word_array(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """``(word ids of every token in order, tokens per candidate)``. A word no reference has gets an id of
        its own for this call: it matches nothing, but its repeats still count in the candidate's own vector."""
        lengths = np.fromiter(map(len, token_lists), np.int64, len(token_lists))
        tokens = list(itertools.chain.from_iterable(token_lists))
        ids = np.fromiter(map(self._word_ids.get, tokens, itertools.repeat(0)), np.uint64, len(tokens))
        unseen_at = np.flatnonzero(ids == 0)
        if len(unseen_at):
            unseen: dict[str, int] = {}
            for position in unseen_at.tolist():
                ids[position] = unseen.setdefault(tokens[position], len(self._word_ids) + len(unseen) + 1)
            if len(self._word_ids) + len(unseen) > _MAX_WORD_IDS:
                raise CaptionMetricsError(
                    f"the references and candidates hold {len(self._word_ids) + len(unseen):,} distinct words; "
                    f"CiderD packs an n-gram into 64 bits, which allows at most {_MAX_WORD_IDS:,}")
        return ids, lengths

    def _ngram_counts(self, words: np.ndarray, lengths: np.ndarray):
        """``(sequence, ngram, distinct, order, count)`` of every distinct n-gram (1..4 words) of every sequence
        (``words``: the word ids of all sequences in a row, ``lengths``: how many belong to each), sorted by
        sequence, then code; the n-gram's code is ``distinct[ngram]`` (``distinct``: the sorted distinct codes)."""
        sequence_of_word = np.repeat(np.arange(len(lengths)), lengths)
        sequences, codes = [], []
        for order in range(1, ORDERS + 1):
            starts = len(words) - order + 1
            if starts <= 0:
                break
            inside = sequence_of_word[:starts] == sequence_of_word[order - 1 :]
            code = words[:starts].copy()
            for offset in range(1, order):
                code = (code << np.uint64(_BITS)) | words[offset : offset + starts]
            sequences.append(sequence_of_word[:starts][inside])
            codes.append(code[inside])
        if not sequences:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(0, np.uint64), empty, np.zeros(0, np.float64)
        # One integer key per (sequence, n-gram): a single sort counts them (far faster than a two-key lexsort).
        distinct, rank = np.unique(np.concatenate(codes), return_inverse=True)
        keys, counts = np.unique(np.concatenate(sequences) * len(distinct) + rank.astype(np.int64),
                                 return_counts=True)
        ngram = keys % len(distinct)
        # Word ids are >= 1, so a k-gram's code has k 16-bit groups.
        order = np.searchsorted(_ORDER_BOUNDS, distinct[ngram], side="right") + 1
        return keys // len(distinct), ngram, distinct, order, counts.astype(np.float64)

    def _norms(self, sequence, order, values, num_sequences: int) -> np.ndarray:
        """``(num_sequences, ORDERS)``: each order's Euclidean norm of the tf-idf vector."""
        squares = np.bincount(sequence * ORDERS + order - 1, values**2, minlength=num_sequences * ORDERS)
        return np.sqrt(squares).reshape(num_sequences, ORDERS)

    @staticmethod
    def _bigram_counts(sequence, order, tf, num_sequences: int) -> np.ndarray:
        """The caption "length" of pycocoevalcap's penalty: its number of bigrams."""
        return np.bincount(sequence, tf * (order == 2), minlength=num_sequences)

    def _score(self, words: np.ndarray, lengths: np.ndarray, images: np.ndarray) -> np.ndarray:
        count = len(lengths)
        if count == 0:
            return np.zeros(0, np.float64)
        candidate, distinct_ngram, distinct, orders, tf = self._ngram_counts(words, lengths)
        ngram_of_distinct, known_of_distinct = _lookup(self._codes, distinct)
        ngram, known = ngram_of_distinct[distinct_ngram], known_of_distinct[distinct_ngram]
        # An n-gram no reference holds has df 0: idf log(N), as pycocoevalcap's max(1, df) gives.
        idf = np.where(known, self._idf[ngram] if len(self._idf) else 0.0, self._log_images)
        norms = self._norms(candidate, orders, tf * idf, count)
        lengths = self._bigram_counts(candidate, orders, tf, count)

        # Clipped products: only an n-gram that a reference of the candidate's own image holds can contribute.
        # Candidates are taken image by image, so that each searched key comes in ascending order (always when
        # each image has one candidate), which makes the searches several times faster.
        entries_of = np.bincount(candidate, minlength=count)
        by_image = np.argsort(images, kind="stable")
        image_of_slot = images[by_image]
        slot, _, entry = _blocks(np.cumsum(entries_of)[by_image] - entries_of[by_image], entries_of[by_image],
                                 np.ones(count, np.int64))
        _, held = _lookup(self._image_ngrams, image_of_slot[slot] * len(self._codes) + ngram[entry])
        kept = held & known[entry]
        slot, entry = slot[kept], entry[kept]
        # Each of those n-grams once per reference of the image, reference by reference within a candidate.
        kept_of = np.bincount(slot, minlength=count)
        slot, rank, position = _blocks(np.cumsum(kept_of) - kept_of, kept_of,
                                       self._references_per_image[image_of_slot])
        entry = entry[position]
        reference = self._first_reference[image_of_slot[slot]] + rank
        found, hit = _lookup(self._reference_keys, reference * len(self._codes) + ngram[entry])
        reference_tf = np.where(hit, self._reference_tf[found], 0.0)
        products = idf[entry] ** 2 * np.minimum(tf[entry], reference_tf) * reference_tf
        most = int(self._references_per_image.max())
        numerators = np.bincount((candidate[entry] * most + rank) * ORDERS + orders[entry] - 1, products,
                                 minlength=count * most * ORDERS).reshape(count, most, ORDERS)

        rank_grid = np.arange(most)
        present = rank_grid[None, :] < self._references_per_image[images][:, None]
        references = np.where(present, self._first_reference[images][:, None] + rank_grid, 0)
        denominators = norms[:, None, :] * self._reference_norms[references]
        cosines = np.where(denominators > 0, numerators / np.where(denominators > 0, denominators, 1.0), numerators)
        delta = lengths[:, None] - self._reference_lengths[references]
        penalised = cosines * np.exp(-(delta**2) / (2 * self.sigma**2))[:, :, None] * present[:, :, None]
        return 10.0 * penalised.mean(axis=2).sum(axis=1) / self._references_per_image[images]


def _blocks(starts: np.ndarray, sizes: np.ndarray, repeats: np.ndarray):
    """Groups of ``sizes[g]`` consecutive items from ``starts[g]``, each group listed ``repeats[g]`` times in a
    row, group after group: ``(group, repeat, item)`` of every listed item."""
    total = sizes * repeats
    group = np.repeat(np.arange(len(sizes)), total)
    within = np.arange(int(total.sum())) - np.repeat(np.cumsum(total) - total, total)
    size = np.maximum(sizes[group], 1)
    return group, within // size, starts[group] + within % size


def _lookup(sorted_values: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(index, found)``: where each of ``wanted`` is in ``sorted_values`` (any valid index when absent)."""
    if len(sorted_values) == 0:
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    # Searching in ascending order is several times faster than in random order (each search starts where the
    # previous one ended, and memory is read in order), so unordered keys are sorted first.
    if np.all(wanted[1:] >= wanted[:-1]):
        index = np.searchsorted(sorted_values, wanted)
    else:
        order = np.argsort(wanted)
        index = np.empty(len(wanted), np.int64)
        index[order] = np.searchsorted(sorted_values, wanted[order])
    np.minimum(index, len(sorted_values) - 1, out=index)
    return index, sorted_values[index] == wanted
