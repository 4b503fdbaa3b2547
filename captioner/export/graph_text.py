"""Token ids to caption text as TensorFlow string operations: the vocabulary lookup and the detokenizer.

The captioner's word tokenizer (`textmodels.text.WordTokenizer`) joins words back with NLTK's
``TreebankWordDetokenizer``, a fixed sequence of regular-expression substitutions. `TREEBANK_RULES` is that
sequence written for RE2, the engine of ``tf.strings.regex_replace``: RE2 has no look-ahead, so of the two rules
that use one, "wan na" consumes the space it looked at and puts it back, and "drop the space before a '.' that
no '.' follows" marks those dots first and matches the marks.
The tests check the result against NLTK on thousands of token sequences full of punctuation, quotes,
brackets and contractions.

Example:
    >>> import tensorflow as tf
    >>> from textmodels.text import WordTokenizer
    >>> detokenize = detokenizer(WordTokenizer())
    >>> detokenize(tf.constant(["a dog 's ball , is n't it ?"])).numpy().tolist()
    [b"a dog's ball, isn't it?"]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from captioner.errors import CaptionerError

# Stands for a "." that no other "." follows, while one rule runs (never part of a caption).
_LAST_DOT = "\x01"
# (pattern, rewrite) in the order TreebankWordDetokenizer.tokenize applies them (NLTK 3.9-3.10). "strip"
# stands for its text.strip() after the ending quotes.
_CONTRACTIONS = [
    (r"(?i) ('t)\s(is)\b", r"\1\2"),
    (r"(?i) ('t)\s(was)\b", r"\1\2"),
    (r"(?i)\b(can)\s(not)\b", r"\1\2"),
    (r"(?i)\b(d)\s('ye)\b", r"\1\2"),
    (r"(?i)\b(gim)\s(me)\b", r"\1\2"),
    (r"(?i)\b(gon)\s(na)\b", r"\1\2"),
    (r"(?i)\b(got)\s(ta)\b", r"\1\2"),
    (r"(?i)\b(lem)\s(me)\b", r"\1\2"),
    (r"(?i)\b(more)\s('n)\b", r"\1\2"),
    # NLTK: \b(wan)\s(na)(?=\s)
    (r"(?i)\b(wan)\s(na)(\s)", r"\1\2\3"),
]
_ENDING_QUOTES = [
    (r"([^' ])\s('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r"\1\2 "),
    (r"([^' ])\s('[sS]|'[mM]|'[dD]|') ", r"\1\2 "),
    (r"([^'\s])\s('')", r"\1\2"),
    (r"([,.;:!?'])\s+(\"|'')", r"\1\2"),
    (r"('')\s([.,:)\]>};%])", r"\1\2"),
    (r"''", '"'),
    (r"([,.;:!?])\"(')", r'\1\2"'),
]
_AFTER_STRIP = [
    (r" -- ", r"--"),
    (r"([\[\(\{\<])\s", r"\1"),
    (r"\s([\]\)\}\>])", r"\1"),
    (r"([\]\)\}\>])\s([:;,.])", r"\1\2"),
    (r"([^'])\s'\s", r"\1' "),
    (r"\s([?!])", r"\1"),
    # NLTK: ([^\.])\s(\.)(?!\.)([\]\)}>"\']*). The last "." of every run of dots (the only kind the
    # look-ahead lets through) is marked first, then matched as NLTK matches it and unmarked.
    (r"\.([^.]|$)", _LAST_DOT + r"\1"),
    (r"([^." + _LAST_DOT + r"])\s(" + _LAST_DOT + r")([\]\)}>\"']*)", r"\1\2\3"),
    (_LAST_DOT, "."),
    (r"([#$])\s", r"\1"),
    (r"\s([;%])", r"\1"),
    (r"\s\.\.\.\s", r"..."),
    (r"\s([:,])", r"\1"),
    (r"([ (\[{<])\s``", r"\1``"),
    (r"(``)\s", r"\1"),
    (r"``", '"'),
]
TREEBANK_RULES: Sequence[tuple[str, str] | str] = [*_CONTRACTIONS, *_ENDING_QUOTES, "strip", *_AFTER_STRIP, "strip"]


def treebank_detokenize(text: tf.Tensor) -> tf.Tensor:
    """What ``TreebankWordDetokenizer().detokenize(words)`` gives, for ``text`` = the words joined by spaces.

    Example:
        >>> treebank_detokenize(tf.constant("( a `` b '' ) ...")).numpy().decode()
        '(a "b")...'
    """
    text = tf.strings.join([" ", text, " "])
    for rule in TREEBANK_RULES:
        if rule == "strip":
            text = tf.strings.strip(text)
        else:
            pattern, rewrite = rule
            text = tf.strings.regex_replace(text, pattern, rewrite)
    return text


def detokenizer(tokenizer) -> Callable[[tf.Tensor], tf.Tensor]:
    """Space-joined tokens -> text, as ``tokenizer`` (a captioner's word tokenizer) would join them.

    Example:
        >>> from textmodels.text import WordTokenizer
        >>> detokenizer(WordTokenizer(method="regexp"))(tf.constant("a , b")).numpy().decode()
        'a , b'
    """
    from textmodels.text import WordTokenizer

    if not isinstance(tokenizer, WordTokenizer):
        raise CaptionerError(f"Cannot export captions made by a {type(tokenizer).__name__}; a captioner's "
                             "vocabulary is word-level (WordTokenizer).")
    return treebank_detokenize if tokenizer.method == "treebank" else tf.identity


def ids_to_text(ids: tf.Tensor, lengths: tf.Tensor, tokens: Sequence[str], detokenize) -> tf.Tensor:
    """Caption strings for token ``ids`` (..., max_length) of which the first ``lengths`` (...) count.

    Example:
        >>> ids_to_text(tf.constant([[4, 5, 0], [5, 0, 0]]), tf.constant([2, 1]), ["<pad>", "<unk>", "<bos>",
        ...     "<eos>", "a", "dog"], tf.identity).numpy().tolist()
        [b'a dog', b'dog']
    """
    words = tf.gather(tf.constant(list(tokens)), ids)
    width = tf.shape(words)[-1]
    flat = tf.RaggedTensor.from_tensor(tf.reshape(words, (-1, width)), lengths=tf.reshape(lengths, (-1,)))
    joined = tf.strings.reduce_join(flat, axis=-1, separator=" ")
    return tf.reshape(detokenize(joined), tf.shape(lengths))
