"""The demo marketplaces' listing photos: drawn from a seed, so the same photo comes out the same on every
machine, and altered the ways re-posted photos are (re-encoded, resized, cropped a few percent, watermarked)
so near-duplicate detection can be measured against its ground truth."""
from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageDraw

SIZE = (400, 300)
EDITS = ("reencode", "resize", "crop", "watermark")


def _draw(seed: str) -> Image.Image:
    rng = random.Random(f"wildwatch-demo-photo-{seed}")
    image = Image.new("RGB", SIZE, tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(6, 12)):
        x0, y0 = rng.randrange(0, SIZE[0] - 40), rng.randrange(0, SIZE[1] - 40)
        x1, y1 = x0 + rng.randrange(30, 220), y0 + rng.randrange(30, 160)
        colour = tuple(rng.randrange(0, 256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image


# Rendered once, then served as a real site serves files (benchmarks grow a site to a few thousand listings).
@functools.lru_cache(maxsize=8192)
def render(seed: str, edit: str | None = None) -> bytes:
    image = _draw(seed)
    quality = 90
    if edit == "reencode":
        quality = 45
    elif edit == "resize":
        image = image.resize((int(SIZE[0] * 0.8), int(SIZE[1] * 0.8)), Image.Resampling.LANCZOS)
    elif edit == "crop":
        dx, dy = int(SIZE[0] * 0.04), int(SIZE[1] * 0.04)
        image = image.crop((dx, dy, SIZE[0] - dx, SIZE[1] - dy))
    elif edit == "watermark":
        draw = ImageDraw.Draw(image)
        draw.rectangle((SIZE[0] - 150, SIZE[1] - 36, SIZE[0] - 8, SIZE[1] - 8), fill=(255, 255, 255))
        draw.text((SIZE[0] - 140, SIZE[1] - 30), "SHOP 0712", fill=(0, 0, 0))
    elif edit is not None:
        raise ValueError(f"unknown photo edit {edit!r} (one of {', '.join(EDITS)})")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def for_listing(listing, number: int) -> bytes:
    """Photo `number` (1-based) of a demo listing: the first is its catalog `photo:` when it has one."""
    if number == 1 and getattr(listing, "photo_text", None):
        from wildwatch.demo.painted import painted

        return painted(f"{listing.site}-{listing.id}-1", listing.photo_text, listing.photo_text_style)
    if number == 1 and listing.photo:
        return render(listing.photo, listing.photo_edit)
    return render(f"{listing.site}-{listing.id}-{number}")
