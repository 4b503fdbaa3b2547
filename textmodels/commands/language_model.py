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

LEVELS = ("word", "char")
REGIMES = ("stream", "sentences")
CELLS = ("simple", "gru", "lstm", "peephole_lstm", "coupled_lstm")  # textmodels.layers.CELLS, without importing Keras


def register(subparsers) -> None:
    """Adds the ``train-lm``, ``generate`` and ``perplexity`` subcommands."""
    train = subparsers.add_parser(
        "train-lm",
        help="train a word- or character-level RNN language model",
        description="Train an RNN language model. Stream regime: truncated BPTT over one contiguous corpus "
        "(state carried across windows, reset each epoch); sentences regime: one line per sequence.",
    )
    train.add_argument("corpus", type=Path, help="training text (UTF-8)")
    train.add_argument("--out", type=Path, required=True, help="where to save the model (.keras)")
    train.add_argument("--level", choices=LEVELS, default="word")
    train.add_argument("--regime", choices=REGIMES, default="stream")
    train.add_argument("--valid", type=Path, default=None, help="held-out text: exact perplexity every epoch")
    train.add_argument("--cell", choices=CELLS, default="lstm")
    train.add_argument("--layers", type=int, default=2)
    train.add_argument("--hidden", type=int, default=200, help="recurrent units per layer")
    train.add_argument("--embedding-dim", type=int, default=None, help="default: --hidden")
    train.add_argument("--dropout", type=float, default=0.0, help="dropout on non-recurrent connections")
    train.add_argument("--tie-embeddings", action="store_true", help="output layer reuses the embedding matrix")
    train.add_argument("--num-steps", type=int, default=35, help="TBPTT window length (stream regime)")
    train.add_argument("--batch-size", type=int, default=20)
    train.add_argument("--max-length", type=int, default=None, help="longest sentence kept (sentences regime)")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--optimizer", choices=("adam", "sgd", "rmsprop"), default="adam")
    train.add_argument("--learning-rate", type=float, default=None)
    train.add_argument("--clipnorm", type=float, default=5.0, help="global gradient-norm clip; 0 disables")
    train.add_argument("--lr-decay", type=float, default=None, help="multiply the rate by this every epoch ...")
    train.add_argument("--decay-after", type=int, default=0, help="... after this many epochs")
    train.add_argument("--init-scale", type=float, default=None, help="uniform init in [-s, s] (Zaremba: 0.1)")
    train.add_argument("--min-count", type=int, default=1, help="rarer tokens become <unk>")
    train.add_argument("--max-vocab", type=int, default=None, help="vocabulary size cap (reserved ids included)")
    train.add_argument("--word-tokenizer", choices=("whitespace", "treebank"), default="whitespace")
    train.add_argument("--lowercase", action="store_true")
    train.add_argument("--patience", type=int, default=None, help="early stopping on the validation loss")
    train.add_argument("--run-dir", type=Path, default=None, help="checkpoints (default: OUT's name + '.run')")
    train.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--errors", choices=("strict", "replace"), default="strict",
                       help="undecodable bytes: fail naming the offset (strict) or substitute U+FFFD")
    train.set_defaults(handler=train_lm)

    generate = subparsers.add_parser("generate", help="sample text from a language model")
    generate.add_argument("model", type=Path, help="a .keras file written by train-lm")
    generate.add_argument("--prime", default="", help="text to continue")
    generate.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    generate.add_argument("--top-k", type=int, default=None)
    generate.add_argument("--top-p", type=float, default=None)
    generate.add_argument("--max-tokens", type=int, default=100)
    generate.add_argument("--seed", type=int, default=None, help="same seed, same text")
    generate.add_argument("--ignore-eos", action="store_true", help="do not stop at <eos>")
    generate.set_defaults(handler=generate_text)

    perplexity = subparsers.add_parser("perplexity", help="exact perplexity (and bits per char) of a text")
    perplexity.add_argument("model", type=Path)
    perplexity.add_argument("file", type=Path)
    perplexity.add_argument("--json", action="store_true", help="print one JSON object")
    perplexity.add_argument("--errors", choices=("strict", "replace"), default="strict")
    perplexity.set_defaults(handler=score_text)


def _positive(name: str, value, allow_none: bool = True):
    if value is None and allow_none:
        return
    if value is None or value < 1:
        raise ValueError(f"--{name} must be a positive integer, got {value}")


def train_lm(args: argparse.Namespace) -> int:
    """Handler of ``train-lm``."""
    for name in ("layers", "hidden", "num_steps", "batch_size", "epochs", "min_count"):
        _positive(name.replace("_", "-"), getattr(args, name), allow_none=False)
    _positive("embedding-dim", args.embedding_dim)
    _positive("max-length", args.max_length)
    if args.out.suffix != ".keras":
        raise ValueError(f"--out must end in .keras, got {args.out}")
    from textmodels.data.text_files import read_corpus_text
    from textmodels.language_model.training import train_language_model

    train_text = read_corpus_text(args.corpus, errors=args.errors)
    valid_text = read_corpus_text(args.valid, errors=args.errors) if args.valid else None
    run_dir = args.run_dir or args.out.with_name(args.out.name + ".run")
    result = train_language_model(
        train_text,
        run_dir,
        valid_text=valid_text,
        level=args.level,
        regime=args.regime,
        word_tokenizer=args.word_tokenizer,
        lowercase=args.lowercase,
        min_count=args.min_count,
        max_vocabulary=args.max_vocab,
        cell=args.cell,
        layers=args.layers,
        units=args.hidden,
        embedding_dim=args.embedding_dim,
        dropout=args.dropout,
        tie_embeddings=args.tie_embeddings,
        batch_size=args.batch_size,
        num_steps=args.num_steps,
        max_length=args.max_length,
        epochs=args.epochs,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        clipnorm=args.clipnorm or None,
        lr_decay=args.lr_decay,
        decay_after=args.decay_after,
        init_scale=args.init_scale,
        patience=args.patience,
        resume=args.resume,
        seed=args.seed,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(args.out)
    summary = f"saved {args.out} ({result.model.vocabulary_size} tokens in the vocabulary, {result.epochs_completed} epochs)"
    if result.history.get("val_perplexity"):
        summary += f"; validation perplexity {result.history['val_perplexity'][-1]:.2f}"
    print(summary)
    return 0


def generate_text(args: argparse.Namespace) -> int:
    """Handler of ``generate``: arguments are checked before the model is loaded."""
    from textmodels.sampling import validate_sampling_args

    validate_sampling_args(args.temperature, args.top_k, args.top_p)
    _positive("max-tokens", args.max_tokens, allow_none=False)
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
    )
    print(generation.full_text)
    return 0


def score_text(args: argparse.Namespace) -> int:
    """Handler of ``perplexity``."""
    from textmodels.language_model.language_model import LanguageModel
    from textmodels.data.text_files import read_corpus_text
    from textmodels.language_model.training import evaluate_language_model

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
