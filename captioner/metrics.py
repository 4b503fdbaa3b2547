"""Caption quality metrics computed exactly as the COCO caption evaluation does (pycocoevalcap).

`caption_metrics` tokenizes references and hypotheses with the Stanford PTB tokenizer (Java) and scores them
with pycocoevalcap's Bleu(4), Meteor(), Rouge() and Cider() (the latter is COCO's CIDEr-D). Without Java, or
with ``use_java=False``, it falls back to `simple_tokenize` and leaves METEOR out (None, with a warning entry).

Example:
    >>> refs = {1: ["A dog runs on the grass.", "A brown dog is running."], 2: ["Two kids play in the sand."]}
    >>> hyps = {1: "a dog runs on the grass", 2: "two kids play in the sand"}
    >>> scores = caption_metrics(refs, hyps, use_java=False)
    >>> round(scores["bleu4"], 3), scores["meteor"], scores["warnings"][0].startswith("METEOR skipped")
    (1.0, None, True)
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from captioner.errors import CaptionerError

BLEU_KEYS = ("bleu1", "bleu2", "bleu3", "bleu4")
_CLITIC = re.compile(r"(\w)('(?:s|re|ve|ll|d|m)|n't)\b|\b(can)(not)\b")
_TOKEN = re.compile(r"n't|'(?:s|re|ve|ll|d|m)\b|\w+(?:[-']\w+)*")


class CaptionMetricsError(CaptionerError, ValueError):
    """References and hypotheses that cannot be scored; the message names the offending image ids."""


def simple_tokenize(text: str) -> list[str]:
    """Lower-case word tokens without punctuation, splitting clitics as the PTB tokenizer does ("dog's").

    Example:
        >>> simple_tokenize("A dog's T-shirt, isn't it? I cannot tell.")
        ['a', 'dog', "'s", 't-shirt', 'is', "n't", 'it', 'i', 'can', 'not', 'tell']
    """
    text = text.lower()
    if "'" in text or "cannot" in text:  # the only texts the clitic rule can change (it is the slow step)
        text = _CLITIC.sub(_space_apart, text)
    return _TOKEN.findall(text)


def _space_apart(match: re.Match) -> str:
    return " ".join(part for part in match.groups() if part)


def caption_metrics(
    references: Mapping[Hashable, Sequence[str]],
    hypotheses: Mapping[Hashable, str],
    *,
    use_java: bool = True,
    meteor: bool = True,
) -> dict:
    """Corpus BLEU-1..4, METEOR, ROUGE-L and CIDEr-D of one hypothesis per image against its references.

    Returns a dict with keys ``bleu1``..``bleu4``, ``meteor`` (None without Java or with ``meteor=False``,
    which skips its slow Java process), ``rouge_l``, ``cider`` and
    ``warnings`` (a list of strings, empty when every metric ran as in the COCO evaluation). Both mappings
    must have the same image ids; an empty hypothesis is allowed and simply scores low. METEOR starts a Java
    process and takes several seconds.

    Example:
        >>> refs = {"a.jpg": ["a cat sits on a mat"], "b.jpg": ["a man rides a red bike"]}
        >>> scores = caption_metrics(refs, {"a.jpg": "a cat on a mat", "b.jpg": ""}, use_java=False)
        >>> 0 < scores["bleu1"] < 1 and scores["cider"] > 0
        True
    """
    _validate(references, hypotheses)
    result_warnings: list[str] = []
    java_ready = use_java and shutil.which("java") is not None
    if java_ready:
        gts, res = _ptb_tokenize(references, hypotheses)
    else:
        reason = "use_java=False" if not use_java else "no `java` executable on PATH"
        result_warnings.append(
            f"METEOR skipped and a simple tokenizer used instead of the PTB tokenizer ({reason}); "
            "scores are close to but not exactly the COCO evaluation's."
        )
        gts = {key: [" ".join(simple_tokenize(ref)) for ref in refs] for key, refs in references.items()}
        res = {key: [" ".join(simple_tokenize(hypotheses[key]))] for key in references}

    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    rouge_l, _ = Rouge().compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    scores: dict = {key: float(value) for key, value in zip(BLEU_KEYS, bleu)}
    scores["meteor"] = _meteor(gts, res) if java_ready and meteor else None
    scores["rouge_l"] = float(rouge_l)
    scores["cider"] = float(cider)
    scores["warnings"] = result_warnings
    return scores


def _validate(references: Mapping[Hashable, Sequence[str]], hypotheses: Mapping[Hashable, str]) -> None:
    if not isinstance(references, Mapping) or not isinstance(hypotheses, Mapping):
        raise CaptionMetricsError(
            "references and hypotheses must be dicts keyed by image id, got "
            f"{type(references).__name__} and {type(hypotheses).__name__}"
        )
    if not references:
        raise CaptionMetricsError("references is empty: there are no images to score")
    missing = [key for key in references if key not in hypotheses]
    extra = [key for key in hypotheses if key not in references]
    if missing or extra:
        raise CaptionMetricsError(
            "references and hypotheses must have the same image ids: "
            f"{len(missing)} without a hypothesis {missing[:10]}, {len(extra)} without references {extra[:10]}"
        )
    for key, refs in references.items():
        if isinstance(refs, str) or not isinstance(refs, Sequence) or not refs:
            raise CaptionMetricsError(f"references[{key!r}] must be a non-empty list of strings, got {refs!r}")
        if not all(isinstance(ref, str) for ref in refs):
            raise CaptionMetricsError(f"references[{key!r}] must contain only strings, got {refs!r}")
        if not isinstance(hypotheses[key], str):
            raise CaptionMetricsError(f"hypotheses[{key!r}] must be a string, got {hypotheses[key]!r}")


def _ptb_tokenize(
    references: Mapping[Hashable, Sequence[str]], hypotheses: Mapping[Hashable, str]
) -> tuple[dict, dict]:
    tokenizer = PTBTokenizer()
    with _silenced_output():
        gts = tokenizer.tokenize({key: [{"caption": ref} for ref in refs] for key, refs in references.items()})
        res = tokenizer.tokenize({key: [{"caption": hypotheses[key]}] for key in references})
    if gts.keys() != references.keys() or res.keys() != references.keys():
        raise CaptionMetricsError("the PTB tokenizer (Java) returned fewer captions than it was given")
    return gts, res


def _meteor(gts: dict, res: dict) -> float:
    meteor = Meteor()
    process = meteor.meteor_p
    try:
        score, _ = meteor.compute_score(gts, res)
    except (ValueError, OSError) as error:
        # An unparsable line or a broken pipe means the Java process died; its stderr says why.
        stderr = process.stderr.read()[-2000:].decode(errors="replace") if process.poll() is not None else ""
        raise CaptionMetricsError(f"METEOR (Java, meteor-1.5.jar) returned no score: {error}. {stderr}") from error
    finally:
        # compute_score keeps its lock when it fails, and Meteor.__del__ would then block forever on it.
        if meteor.lock.locked():
            meteor.lock.release()
        # Meteor only stops its Java process when garbage-collected; stop it now so none lingers.
        with suppress(OSError):
            process.stdin.close()
        process.kill()
        process.wait()
    return float(score)


@contextmanager
def _silenced_output() -> Iterator[None]:
    """Send file descriptors 1 and 2 to /dev/null, silencing child processes (the Java tokenizer) too."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
