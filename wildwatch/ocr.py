"""Text written on photos: traders paint a phone number or a WeChat id over the product photo because text
filters read only text. Read with PP-OCR (rapidocr-onnxruntime: the detection and recognition models ship
inside the package, nothing is downloaded), which reads Chinese and Latin letters and digits; Vietnamese
diacritics come out bare, which contact extraction does not need (bench/ocr.py measures recall, precision and
cost on planted photos).

CPU budget: one core per reader (ONNX Runtime limited to one thread), photos scaled to at most MAX_SIDE pixels
on their long side first, so a photo costs a bounded few hundred milliseconds. Only candidates' photos are read,
after the crawl (the `read_photos` survey task, `wildwatch photos read`), never on the crawl's reactor thread.
"""
from __future__ import annotations

import functools
import io
import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_SIDE = 1280
MIN_SCORE = 0.5  # a line the recogniser is less sure of than this is left out


@dataclass
class Reading:
    text: str  # the lines read, top to bottom, one per line
    ms: int


@functools.lru_cache(maxsize=1)
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    # The detector scales a photo's long side to at most 960 px (its default scales the *short* side up to 736:
    # five times the work on a marketplace photo, and no better; measured in bench/ocr.py).
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, det_limit_type="max", det_limit_side_len=960)


def read(data: bytes) -> Reading:
    """The text on a picture (JPEG, PNG, WebP...). ValueError when it is not a picture Pillow reads."""
    import numpy as np
    from PIL import Image

    started = time.perf_counter()
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        if max(image.size) > MAX_SIDE:
            image.thumbnail((MAX_SIDE, MAX_SIDE))
        pixels = np.asarray(image)[:, :, ::-1]  # the engine reads OpenCV's BGR order
    found, _ = _engine()(pixels)
    boxes = [(box, text) for box, text, score in (found or []) if float(score) >= MIN_SCORE]
    return Reading("\n".join(_rows(boxes)), int((time.perf_counter() - started) * 1000))


def _rows(boxes: list) -> list[str]:
    """Boxes of text as lines read left to right, top to bottom: boxes whose middles are within half a box's
    height of each other are one line (a number the detector cut in three is one line again)."""
    placed = []
    for corners, text in boxes:
        ys, xs = [p[1] for p in corners], [p[0] for p in corners]
        placed.append(((min(ys) + max(ys)) / 2, max(max(ys) - min(ys), 1), min(xs), text))
    rows: list[list] = []
    for middle, height, left, text in sorted(placed):
        if rows and abs(middle - rows[-1][0]) <= height / 2:
            rows[-1][1].append((left, text))
        else:
            rows.append([middle, [(left, text)]])
    return [" ".join(text for _, text in sorted(items)) for _, items in rows]


_GLUED = __import__("re").compile(r"(?<=[^\W\d_])(?=\+?\d[\d .-]{8,})")


def contact_text(text: str) -> str:
    """What was read, as contact extraction reads text: lines of one picture joined (a number broken over two
    boxes is one number again), and a phone-length number glued to the word before it ("simu0712345678", the
    recogniser drops spaces) set apart."""
    return _GLUED.sub(" ", " ".join(text.split()))
