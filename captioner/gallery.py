"""Photos beside their captions, to look at: an HTML page and a PNG contact sheet.

Each tile shows a photo, the captioner's best caption with its log-probability, the image-blind baseline's
caption (when a baseline model is given) and one human reference, so a reader sees at a glance what the image
contributes. Both files are written atomically (temporary file, then rename).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (40, 30), (200, 30, 30)).save(folder / "red.png")
    >>> items = [GalleryItem(folder / "red.png", "a red square", -2.5, "a dog runs", "a red picture")]
    >>> html, sheet = write_gallery(items, folder / "gallery", title="demo")
    >>> html.name, sheet.name, Image.open(sheet).size
    ('index.html', 'contact_sheet.png', (260, 314))
"""

from __future__ import annotations

import html as html_escape
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from captioner.data.images import load_image
from captioner.data.records import CaptionRecord
from captioner.errors import CaptionDataError
from textmodels.atomic_files import replace_atomically
from textmodels.errors import ConfigurationError

TILE = 224
PADDING = 18
FONT_SIZE = 14
LINE_HEIGHT = 18
WRAP = 30  # characters per line at FONT_SIZE across one tile


@dataclass
class GalleryItem:
    """One photo and what is said about it."""

    image_path: Path
    caption: str
    log_prob: float
    blind_caption: str | None
    reference: str


def gallery_items(
    model,
    records: Sequence[CaptionRecord],
    *,
    count: int = 12,
    blind=None,
    **decoding,
) -> list[GalleryItem]:
    """Caption the first ``count`` readable photos of ``records`` with ``model`` (and ``blind``, if given), each
    model with its stored decoding settings unless ``decoding`` (options of `CaptionModel.generate`, e.g.
    ``beam_size``, ``length_penalty``) overrides them.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a red picture"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, embedding_dim=4, units=8)
        >>> photo = Path(tempfile.mkdtemp()) / "red.png"
        >>> Image.new("RGB", (40, 30), (200, 30, 30)).save(photo)
        >>> items = gallery_items(model, [CaptionRecord("1", photo, "test", ("a red picture",))], count=1,
        ...                       beam_size=1)
        >>> len(items), items[0].reference, items[0].log_prob <= 0, items[0].blind_caption
        (1, 'a red picture', True, None)
    """
    if count < 1:
        raise ConfigurationError(f"count must be at least 1, got {count}")
    from captioner.data.pipeline import image_batches

    chosen = list(records)[: count * 2]  # a few spares for unreadable photos
    items: list[GalleryItem] = []
    batches = image_batches([record.image_path for record in chosen], model.image_size, count)
    for indices, images in batches.as_numpy_iterator():
        batch = [chosen[index] for index in indices]
        best = [hyps[0] for hyps in model.generate(model.encode_images(images), **decoding)]
        blind_captions = [None] * len(batch)
        if blind is not None:
            blind_hyps = blind.generate(np.zeros((len(batch), blind.feature_dim), np.float32), **decoding)
            blind_captions = [blind.text_encoder.decode(hyps[0].tokens) for hyps in blind_hyps]
        for record, hypothesis, blind_caption in zip(batch, best, blind_captions):
            items.append(GalleryItem(record.image_path, model.text_encoder.decode(hypothesis.tokens),
                                     float(hypothesis.log_prob), blind_caption, record.captions[0]))
        if len(items) >= count:
            break
    return items[:count]


def _atomic_write(path: Path, write) -> Path:
    """``write(handle)`` into a temporary file renamed over ``path`` (`textmodels.atomic_files.replace_atomically`)."""

    def to_file(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            write(handle)

    return replace_atomically(path, to_file)


def _lines(item: GalleryItem) -> list[tuple[str, tuple[int, int, int]]]:
    lines = [(text, (0, 0, 0)) for text in textwrap.wrap(f"{item.caption}  (log p {item.log_prob:.1f})", WRAP)]
    if item.blind_caption is not None:
        lines += [(text, (150, 40, 40)) for text in textwrap.wrap(f"blind: {item.blind_caption}", WRAP)]
    lines += [(text, (90, 90, 90)) for text in textwrap.wrap(f"human: {item.reference}", WRAP)]
    return lines


def contact_sheet(items: Sequence[GalleryItem], path: str | Path, columns: int = 4) -> Path:
    """A PNG grid of the photos with their captions underneath (black: captioner, red: blind, grey: human).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (40, 30), (200, 30, 30)).save(folder / "red.png")
        >>> items = [GalleryItem(folder / "red.png", "a red square", -2.5, None, "a red picture")] * 3
        >>> Image.open(contact_sheet(items, folder / "sheet.png", columns=2)).size  # 2 columns, 2 rows
        (520, 592)
    """
    if not items:
        raise CaptionDataError("no photos to draw")
    font = ImageFont.load_default(size=FONT_SIZE)
    columns = min(columns, len(items))
    rows = -(-len(items) // columns)
    text_height = max(len(_lines(item)) for item in items) * LINE_HEIGHT
    cell_w, cell_h = TILE + 2 * PADDING, TILE + text_height + 2 * PADDING
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, item in enumerate(items):
        left, top = (index % columns) * cell_w + PADDING, (index // columns) * cell_h + PADDING
        photo = load_image(item.image_path, size=(TILE, TILE)).round().astype(np.uint8)
        sheet.paste(Image.fromarray(photo), (left, top))
        for line_number, (text, colour) in enumerate(_lines(item)):
            draw.text((left, top + TILE + 4 + line_number * LINE_HEIGHT), text, fill=colour, font=font)
    return _atomic_write(Path(path), lambda handle: sheet.save(handle, format="PNG", optimize=True))


def write_html(items: Sequence[GalleryItem], out_dir: str | Path, title: str = "Captions") -> Path:
    """``out_dir/index.html`` with the photos copied beside it (``photos/``, 224-px JPEG), so it can be moved.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (40, 30), (200, 30, 30)).save(folder / "red.png")
        >>> page = write_html([GalleryItem(folder / "red.png", "a red square", -2.5, None, "a red picture")],
        ...                   folder / "page", title="demo")
        >>> "a red square" in page.read_text(), [photo.name for photo in (folder / "page" / "photos").iterdir()]
        (True, ['000_red.jpg'])
    """
    out_dir = Path(out_dir)
    photos = out_dir / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    figures = []
    for index, item in enumerate(items):
        name = f"{index:03d}_{item.image_path.stem}.jpg"
        pixels = load_image(item.image_path, size=(TILE, TILE)).round().astype(np.uint8)
        _atomic_write(photos / name, lambda handle, p=pixels: Image.fromarray(p).save(handle, "JPEG", quality=88))
        blind = ("" if item.blind_caption is None else
                 f'<p class="blind">blind baseline: {html_escape.escape(item.blind_caption)}</p>')
        figures.append(
            f'<figure><img src="photos/{name}" alt="{html_escape.escape(item.image_path.name)}">'
            f"<figcaption><p class=\"caption\">{html_escape.escape(item.caption)} "
            f'<span class="score">log p {item.log_prob:.2f}</span></p>{blind}'
            f'<p class="human">human: {html_escape.escape(item.reference)}</p></figcaption></figure>'
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html_escape.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 1.5em; }}
figure {{ margin: 0; }} img {{ width: 224px; height: 224px; object-fit: cover; border-radius: 4px; }}
p {{ margin: 0.3em 0; font-size: 0.9em; }} .caption {{ font-weight: bold; }} .score {{ color: #888;
font-weight: normal; }} .blind {{ color: #a33; }} .human {{ color: #666; }}
</style></head>
<body><h1>{html_escape.escape(title)}</h1><main>
{chr(10).join(figures)}
</main></body></html>
"""
    return _atomic_write(out_dir / "index.html", lambda handle: handle.write(page.encode("utf-8")))


def write_gallery(items: Sequence[GalleryItem], out_dir: str | Path, title: str = "Captions",
                  columns: int = 4) -> tuple[Path, Path]:
    """Both views: ``out_dir/index.html`` and ``out_dir/contact_sheet.png``.

    See the module example.
    """
    out_dir = Path(out_dir)
    return write_html(items, out_dir, title), contact_sheet(items, out_dir / "contact_sheet.png", columns)
