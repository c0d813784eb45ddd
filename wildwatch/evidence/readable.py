"""Archived answers that are data, not pages (a JSON API's answer): shown to analysts as indented text,
escaped, inside the review app's sandboxed frame. The archive itself keeps the bytes as received."""
from __future__ import annotations

import json
import re
from html import escape

from spiders.jsondata import looks_like_json

MAX_SHOWN = 2 * 1024 * 1024  # characters of indented JSON shown; the WARC keeps the whole answer


def is_data(body: bytes, content_type: str | None) -> bool:
    return looks_like_json(body, content_type or "")


def data_page(body: bytes, url: str | None) -> bytes:
    text = body.decode("utf-8", "replace")
    try:
        shown = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
        note = "JSON answer as received, indented for reading"
    except ValueError:
        shown, note = text, "answer as received (not valid JSON)"
    cut = len(shown) > MAX_SHOWN
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>archived answer</title>"
            "<style>body{font:13px/1.4 monospace;margin:8px}pre{white-space:pre-wrap;word-break:break-word}"
            "</style></head><body>"
            f"<p>{escape(note)}{': ' + escape(url) if url else ''}"
            f"{' (cut at 2 MB; the archive holds all of it)' if cut else ''}</p>"
            f"<pre>{escape(shown[:MAX_SHOWN])}</pre></body></html>")
    return page.encode("utf-8")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", re.I)


def page_charset(body: bytes, captured_type: str | None) -> str | None:
    """The charset an archived page was captured with: its answer's Content-Type, else its own <meta>
    declaration, else None (the browser then reads the bytes as it would have). Never guessed as UTF-8."""
    import codecs

    found = _HEADER_CHARSET.search(captured_type or "")
    name = found.group(1) if found else None
    if not name:
        meta = _META_CHARSET.search(body[:4096])
        name = meta.group(1).decode("ascii") if meta else None
    if not name:
        return None
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name  # as the site declared it: the name browsers read the page with
