"""Listing photos as evidence: what is kept (real raster images, checked by their bytes, never by name or
declared type), the thumbnail the review app shows, and the perceptual hash that finds re-used photos.

Scraped images are hostile input: SVG (which can carry script) and anything that is not JPEG, PNG, GIF or
WebP by its magic bytes is refused; Pillow's pixel limit refuses decompression bombs before decoding."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image

MAX_PIXELS = 40_000_000  # a 6,000 x 6,000 photo is fine; a 50,000 x 50,000 "image" of 300 bytes is a bomb
THUMB_SIZE = (240, 240)
KINDS = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}


class NotAPhoto(ValueError):
    """The bytes are not a photo we keep; the message is the reason recorded."""


@dataclass
class Photo:
    data: bytes
    media_type: str
    width: int
    height: int
    thumbnail: bytes  # JPEG
    phash: int        # 64-bit perceptual hash, as a signed integer (PostgreSQL bigint)


def sniff(data: bytes) -> str | None:
    """The image kind its first bytes say, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _what_it_is(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if b"<svg" in head or head.startswith(b"<?xml"):
        return "SVG or XML, never kept (it can carry script)"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<script" in head:
        return "HTML, not an image"
    return "not a JPEG, PNG, GIF or WebP image"


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned64(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def phash_of(image: Image.Image) -> int:
    bits = imagehash.phash(image).hash.flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return signed64(value)


def check(data: bytes, max_bytes: int, max_pixels: int = MAX_PIXELS) -> Photo:
    """The photo, its thumbnail and hash; NotAPhoto with the reason when it is not one we keep."""
    if not data:
        raise NotAPhoto("empty response")
    if len(data) > max_bytes:
        raise NotAPhoto(f"too big: {len(data)} bytes, the limit is {max_bytes}")
    kind = sniff(data)
    if kind is None:
        raise NotAPhoto(_what_it_is(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != PIL_FORMATS[kind]:
                    raise NotAPhoto(f"its bytes say {kind} but decode as {image.format}")
                width, height = image.size
                if width * height > max_pixels:
                    raise NotAPhoto(f"decompression bomb refused: {width} x {height} pixels")
                # A JPEG decodes straight to thumbnail scale (DCT scaling): the whole photo is still read and
                # checked, at a fraction of the cost; the original bytes are what is kept.
                image.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))
                image.load()  # decodes everything: a truncated or corrupt file fails here
                rgb = image.convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise NotAPhoto(f"decompression bomb refused: {exc}") from None
        except NotAPhoto:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a broken or hostile file
            raise NotAPhoto(f"broken {kind} image: {type(exc).__name__}: {str(exc)[:120]}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    thumb = rgb.copy()
    thumb.thumbnail(THUMB_SIZE)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    # pHash shrinks to 32 x 32 first: from the thumbnail it is the same hash at a fraction of the cost
    return Photo(data=data, media_type=KINDS[kind], width=width, height=height, thumbnail=out.getvalue(),
                 phash=phash_of(thumb))
