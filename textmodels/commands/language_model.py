"""``textmodels train-lm``, ``textmodels generate`` and ``textmodels perplexity``: RNN language models.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="textmodels")
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["generate", "model.keras", "--temperature", "0.5", "--top-k", "40"])
    >>> args.temperature, args.top_k, args.max_tokens
    (0.5, 40, 100)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from textmodels.commands import options
from textmodels.language_model.config import LM_DEFAULTS as DEFAULTS

LEVELS = ("word", "char")  # textmodels.language_model.encoding, without Keras
REGIMES = ("stream", "sentences")


def register(subparsers) -> None:
    """Adds the ``train-lm``, ``generate`` and ``perplexity`` subcommands."""
    train = subparsers.add_parser(
        "train-lm",
        help="train a word- or character-level RNN language model",
        description="Train an RNN language model. Stream regime: truncated BPTT over one contiguous corpus "
        "(state carried across windows, reset each epoch); sentences regime: one line per sequence. A checkpoint "
        "after every epoch in --run-dir (continue with --resume); the best epoch is written to --out.",
    )
    train.add_argument("corpus", type=Path, help="training text (UTF-8)")
    options.add_validation_option(train, help="held-out text: exact perplexity every epoch, best epoch chosen on it")
    train.add_argument("--level", choices=LEVELS, default=DEFAULTS.level,
                       help=f"tokens are words or characters (default {DEFAULTS.level})")
    train.add_argument("--regime", choices=REGIMES, default=DEFAULTS.regime,
                       help=f"stream: one contiguous text, state carried across windows; sentences: one line per "
                       f"sequence (default {DEFAULTS.regime})")
    options.add_network_options(train, cell=DEFAULTS.cell, units=DEFAULTS.units, layers=DEFAULTS.layers,
                                embedding_dim=DEFAULTS.embedding_dim, dropout=DEFAULTS.dropout)
    options.add_deprecated_alias(train, "--hidden", "--units", "units", type=options.positive_int)
    train.add_argument("--tie-embeddings", action="store_true", help="output layer reuses the embedding matrix")
    train.add_argument("--num-steps", type=options.positive_int, default=DEFAULTS.num_steps,
                       help=f"TBPTT window length, stream regime (default {DEFAULTS.num_steps})")
    options.add_vocabulary_options(train, min_count=DEFAULTS.min_count, max_length=DEFAULTS.max_length)
    train.add_argument("--word-tokenizer", choices=("whitespace", "treebank"), default=DEFAULTS.word_tokenizer,
                       help=f"how word-level text is split (default {DEFAULTS.word_tokenizer})")
    train.add_argument("--lowercase", action="store_true", help="lowercase the text before building the vocabulary")
    options.add_run_options(train, epochs=DEFAULTS.epochs, batch_size=DEFAULTS.batch_size,
                            patience=DEFAULTS.patience or 0, seed=DEFAULTS.seed)
    options.add_optimizer_options(train, optimizer=DEFAULTS.optimizer, learning_rate=DEFAULTS.learning_rate,
                                  clipnorm=DEFAULTS.clipnorm)
    train.add_argument("--lr-decay", type=options.positive_float, default=DEFAULTS.lr_decay,
                       help="multiply the rate by this every epoch ...")
    train.add_argument("--decay-after", type=options.non_negative_int, default=DEFAULTS.decay_after,
                       help="... after this many epochs")
    train.add_argument("--init-scale", type=options.positive_float, default=DEFAULTS.init_scale,
                       help="uniform init in [-s, s] (Zaremba: 0.1)")
    options.add_errors_option(train)
    options.add_distribute_option(train)
    options.add_quiet_option(train)
    train.set_defaults(handler=train_lm)

    generate = subparsers.add_parser(
        "generate", help="continue a prime with a language model",
        description="Sample a continuation (--temperature, --top-k, --top-p, --seed), or search for the likeliest "
        "one with --beam-size; generation stops at <eos> or after --max-tokens.",
    )
    generate.add_argument("model", type=Path, help="a .keras file written by train-lm")
    generate.add_argument("--prime", default="", help="text to continue")
    options.add_decoding_options(generate, beam_size=None, temperature=1.0)
    generate.add_argument("--max-tokens", type=options.positive_int, default=100,
                          help="most tokens generated after the prime (default 100)")
    generate.add_argument("--ignore-eos", action="store_true", help="do not stop at <eos>")
    generate.set_defaults(handler=generate_text)

    perplexity = subparsers.add_parser("perplexity", help="exact perplexity (and bits per char) of a text")
    perplexity.add_argument("model", type=Path, help="a .keras file written by train-lm")
    perplexity.add_argument("file", type=Path, help="the text to score: a file, a pipe, or - for standard input")
    perplexity.add_argument("--json", action="store_true", help="print one JSON object")
    options.add_errors_option(perplexity)
    perplexity.set_defaults(handler=score_text)


def train_lm(args: argparse.Namespace) -> int:
    """Handler of ``train-lm``."""
    from textmodels.commands.runs import provenance, start_training, worker_is_chief
    from textmodels.data.text_files import read_corpus_text
    from textmodels.language_model.training import train_language_model

    distribution = start_training(args)
    train_text = read_corpus_text(args.corpus, errors=args.errors)
    valid_text = read_corpus_text(args.val, errors=args.errors) if args.val else None
    result = train_language_model(
        train_text,
        args.run_dir,
        out=args.out,
        valid_text=valid_text,
        level=args.level,
        regime=args.regime,
        word_tokenizer=args.word_tokenizer,
        lowercase=args.lowercase,
        min_count=args.min_count,
        max_vocabulary=args.max_vocab,
        cell=args.cell,
        layers=args.layers,
        units=args.units,
        embedding_dim=args.embedding_dim,
        dropout=args.dropout,
        tie_embeddings=args.tie_embeddings,
        batch_size=args.batch_size,
        num_steps=args.num_steps,
        max_length=args.max_length,
        epochs=args.epochs,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        clipnorm=options.clipnorm(args),
        lr_decay=args.lr_decay,
        decay_after=args.decay_after,
        init_scale=args.init_scale,
        patience=options.patience(args) if valid_text is not None else None,
        resume=args.resume,
        seed=args.seed,
        verbose=0 if args.quiet else "auto",
        distribution=distribution,
    )
    if not worker_is_chief(args, distribution):
        return 0
    summary = (f"saved {args.out} ({provenance(result)}; {result.model.vocabulary_size} tokens in the vocabulary, "
               f"{result.epochs_completed} epochs)")
    if result.run.state["history"].get("val_perplexity"):
        summary += f"; best validation perplexity {min(result.run.state['history']['val_perplexity']):.2f}"
    print(summary)
    return 0


def generate_text(args: argparse.Namespace) -> int:
    """Handler of ``generate``: arguments are checked before the model is loaded."""
    from textmodels.decoding import validate_sampling_args

    validate_sampling_args(args.temperature, args.top_k, args.top_p)
    from textmodels.language_model.text_generator import TextGenerator

    generator = TextGenerator.load(args.model)
    generation = generator.generate(
        prime=args.prime,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        stop_at_eos=not args.ignore_eos,
        beam_size=args.beam_size,
    )
    print(generation.full_text)
    return 0


def score_text(args: argparse.Namespace) -> int:
    """Handler of ``perplexity``."""
    from textmodels.data.text_files import read_corpus_text
    from textmodels.language_model.language_model import LanguageModel
    from textmodels.language_model.perplexity import evaluate_language_model

    model = LanguageModel.load(args.model)
    score = evaluate_language_model(model, read_corpus_text(args.file, errors=args.errors))
    if args.json:
        print(json.dumps(score.as_dict()))
    else:
        line = f"perplexity {score.perplexity:.4f} over {score.tokens} tokens"
        if score.bits_per_char is not None:
            line += f"; {score.bits_per_char:.4f} bits per character"
        print(line)
    return 0
