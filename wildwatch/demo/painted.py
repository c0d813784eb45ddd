"""Contacts painted on photos, as traders do to get past text filters: on a white band, or as outlined
letters straight on the busy picture. Used by the demo marketplaces' photos, the tests and bench/ocr.py."""
from __future__ import annotations

import functools
import io
from pathlib import Path

from PIL import ImageDraw, ImageFont

from wildwatch.demo.photos import _draw

FONTS = {"latin": ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
         "cjk": ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]}


@functools.lru_cache(maxsize=8)
def font(script: str, size: int) -> ImageFont.FreeTypeFont:
    for path in FONTS[script]:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    raise FileNotFoundError(f"no {script} font: apt-get install fonts-dejavu-core fonts-noto-cjk")


def painted(seed: str, text: str, style: str = "band", size: int = 28) -> bytes:
    """A demo photo (drawn from `seed`) with `text` painted on it, as a JPEG."""
    image = _draw(seed)
    draw = ImageDraw.Draw(image)
    script = "cjk" if any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text) else "latin"
    face = font(script, size)
    while draw.textlength(text, font=face) > image.width - 24 and size > 12:  # the whole text on the photo
        size -= 2
        face = font(script, size)
    width = draw.textlength(text, font=face)
    x, y = max(8, (image.width - width) / 2), image.height - size - 30
    if style == "band":
        draw.rectangle((x - 8, y - 6, x + width + 8, y + size + 10), fill=(255, 255, 255))
        draw.text((x, y), text, font=face, fill=(170, 0, 0))
    else:  # straight on the picture, white with a dark outline
        draw.text((x, y), text, font=face, fill=(255, 255, 255), stroke_width=3, stroke_fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()
