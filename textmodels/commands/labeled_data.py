"""Labelled data for ``train-classifier`` and ``evaluate``: the table options and the reader they drive."""

from __future__ import annotations

from textmodels.commands.options import add_errors_option


def add_table_options(parser) -> None:
    """How CSV/TSV data is read: columns, delimiter, header, encoding, ``--errors``, multi-label cells, tfds."""
    group = parser.add_argument_group("table options (CSV/TSV data)")
    group.add_argument("--text-column", help="header name or 0-based index (default: guessed from the header)")
    group.add_argument("--label-column", help="header name or 0-based index")
    group.add_argument("--delimiter", help="default: tab for .tsv, comma for .csv")
    group.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                       help="whether the first row names the columns (default auto: guessed from it)")
    group.add_argument("--encoding", default="utf-8", help="the file's text encoding (default utf-8)")
    add_errors_option(group)
    group.add_argument("--label-separator", help="split label cells on this string (multi-label data)")
    group.add_argument("--tfds-data-dir", help="data_dir for tfds:NAME sources")


def read_labeled_data(args, source: str):
    """The `LabeledTexts` at ``source`` read with the table options in ``args``.

    Example (``args`` as parsed by ``train-classifier`` or ``evaluate``)::

        data = read_labeled_data(args, "../shared/data/sst2/dev.tsv")
    """
    from textmodels.data.labeled_sources import read_labeled_source

    def column(value):
        return int(value) if value is not None and value.isdigit() else value

    return read_labeled_source(
        source,
        text_column=column(args.text_column),
        label_column=column(args.label_column),
        delimiter=args.delimiter,
        header={"auto": "auto", "yes": True, "no": False}[args.header],
        encoding=args.encoding,
        errors=args.errors,
        label_separator=args.label_separator,
        tfds_data_dir=args.tfds_data_dir,
    )
