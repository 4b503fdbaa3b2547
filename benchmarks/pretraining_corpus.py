"""Writes the unlabeled in-domain corpus that the classification benchmark pretrains its language models on.

Sources (all in ../shared/data, labels dropped): the SST-2 training sentences (its phrases that are not part
of a longer one, so each sentence is read once, not once per sub-phrase), the 2,000 movie_reviews
documents (one sentence per line) and the 10,000 subjectivity sentences. Left out on purpose:
sentence_polarity (MR), because the Stanford Sentiment Treebank was built from those very snippets, so it
holds the SST-2 dev sentences; and any line that matches an SST-2 dev sentence once case, punctuation and
tokenization are ignored (the subjectivity snippets come from the same Rotten Tomatoes pages). The evaluation
texts are never seen, not even unlabeled.

    python benchmarks/pretraining_corpus.py --out /tmp/lm_corpus.txt
    python benchmarks/pretraining_corpus.py --out /tmp/lm_corpus.txt --sources sst2,subjectivity
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SOURCES = ("sst2", "movie_reviews", "subjectivity")


def normalized(text: str) -> str:
    """The letters and digits of ``text``, lower-cased, with Treebank brackets (``-lrb-``) dropped: two
    tokenizations of one sentence give the same string.

    Example:
        >>> normalized("It 's -LRB- not -RRB- bad .") == normalized("it's (not) bad")
        True
    """
    return re.sub(r"[^a-z0-9]", "", re.sub(r"-[lr][rcs]b-", "", text.lower()))


def longest_phrases(phrases) -> list[str]:
    """The phrases that are not a part of another one, longest first.

    Example:
        >>> longest_phrases(["a b", "a b c", "c", "d", "b c d e"])
        ['b c d e', 'a b c']
    """
    kept, searched, pending = [], "", []
    for phrase in sorted({" ".join(p.split()) for p in phrases}, key=lambda p: (-len(p), p)):
        padded = f" {phrase} "
        if padded in searched or any(padded in f" {longer} " for longer in pending):
            continue
        kept.append(phrase)
        pending.append(phrase)
        if len(pending) == 200:  # rebuilding the joined text costs a copy: do it once per 200 phrases
            searched, pending = "| " + " | ".join(kept) + " |", []
    return kept


def source_lines(name: str, data_dir: Path) -> list[str]:
    """The lines of one source, one sentence (or SST-2 phrase) each."""
    if name == "sst2":
        from textmodels.data import read_sst2

        return longest_phrases(read_sst2(data_dir / "sst2" / "train.tsv").texts)
    archive = data_dir / "nltk" / f"{name}.zip"
    lines = []
    with zipfile.ZipFile(archive) as opened:
        for member in sorted(opened.namelist()):
            if member.endswith("/") or member.endswith("README.txt") or member.endswith("README"):
                continue
            text = opened.read(member).decode("utf-8" if name == "movie_reviews" else "latin-1")
            lines.extend(line.strip() for line in text.splitlines() if line.strip())
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the corpus file to write (UTF-8, one line each)")
    parser.add_argument("--sources", default=",".join(SOURCES), help=f"comma-separated from {SOURCES}")
    args = parser.parse_args(argv)
    from textmodels.data import read_sst2
    from textmodels.data.paths import shared_data_dir

    data_dir = shared_data_dir()
    if data_dir is None:
        parser.error("the shared data folder is missing (set RNN_DATA_DIR)")
    held_out = {normalized(text) for text in read_sst2(data_dir / "sst2" / "dev.tsv").texts}
    kept, dropped, tokens = [], 0, 0
    for name in [part.strip() for part in args.sources.split(",") if part.strip()]:
        if name not in SOURCES:
            parser.error(f"unknown source {name!r}; choose from {SOURCES}")
        for line in source_lines(name, data_dir):
            if normalized(line) in held_out:
                dropped += 1
                continue
            kept.append(" ".join(line.lower().split()))
            tokens += len(kept[-1].split())
    args.out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"Wrote {args.out}: {len(kept):,} lines, {tokens:,} whitespace tokens from {args.sources}; "
          f"{dropped} lines matching an SST-2 dev sentence left out.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
