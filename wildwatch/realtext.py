"""The texts of saved real pages (HTML and JSON answers, gzipped or not), as the keyword lists would meet them.

`wildwatch keywords scan` runs the matcher over every text of a folder of saved pages and compares its hits
with the reviewed ones in `keywords/eval/realdata.csv`. That file names each real text by its page and a hash
of the text, not by the text itself: the pages stay where their licences keep them (../shared/realdata), and
the development set still grows from real wording.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from lxml import etree

PAGE_SUFFIXES = (".html", ".htm", ".json", ".js")
MAX_PAGE_BYTES = 64 * 2**20  # decompressed; a saved page is a few MB at most
MIN_CHARS, MAX_CHARS = 3, 5000  # a listing's title to its description; longer runs are legal notices and CSS
_URL = re.compile(r"^(?:https?:|//|/)\S*$")
_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.){3,5000})"(?!\s*:)')  # a value, not a key
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RealText:
    source: str  # the page, relative to the scanned folder
    text: str

    @property
    def key(self) -> str:
        return text_key(self.text)


def text_key(text: str) -> str:
    """How `realdata.csv` names a text: the first 12 hex digits of the SHA-1 of its whitespace-collapsed form."""
    return hashlib.sha1(_SPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()[:12]


def pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.name.lower().removesuffix(".gz").endswith(PAGE_SUFFIXES))


class PageError(ValueError):
    """A saved page that cannot be read: it is skipped with this reason, the scan goes on."""


def _read(path: Path) -> str:
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read(MAX_PAGE_BYTES + 1)  # a gzip bomb stops here
    except (OSError, EOFError) as exc:  # unreadable, or not gzip after all (gzip.BadGzipFile is an OSError)
        raise PageError(f"cannot be read: {exc}") from None
    if len(raw) > MAX_PAGE_BYTES:
        raise PageError(f"over {MAX_PAGE_BYTES:,} bytes decompressed")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # leboncoin's pages are cp1252 whatever they declare


def _keep(text: str) -> str | None:
    text = _SPACE.sub(" ", text).strip()
    if not MIN_CHARS <= len(text) <= MAX_CHARS or _URL.match(text) or not any(c.isalpha() for c in text):
        return None
    return text


_VISIBLE = "//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"


def _html_texts(markup: str) -> Iterator[str]:
    """What a reader sees (text nodes, line by line) and what hovers or stands for images (title, alt)."""
    try:
        doc = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):  # an empty document, or one lxml cannot make a tree of
        return
    for node in doc.xpath(_VISIBLE):
        yield from str(node).split("\n")
    for value in doc.xpath("//img/@alt | //@title"):
        yield str(value)


def _json_strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def _script_strings(source: str) -> Iterator[str]:
    """String literals of a JSON answer wrapped in JavaScript (a JSONP callback, `var data = {...}`)."""
    for literal in _JS_STRING.findall(source):
        try:
            yield json.loads(f'"{literal}"')
        except ValueError:
            continue


def texts(path: Path, root: Path) -> Iterator[RealText]:
    """Each distinct text of one saved page, in page order. PageError when it cannot be read."""
    content = _read(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".json", ".js")):
        try:
            found = _json_strings(json.loads(content))
        except ValueError:
            found = _script_strings(content)
    else:
        found = _html_texts(content)
    source = path.relative_to(root).as_posix()
    seen = set()
    for raw in found:
        text = _keep(raw)
        if text and text not in seen:
            seen.add(text)
            yield RealText(source, text)
