"""Reading a file an analyst saved: what it is (by its bytes, never its name), its text and title, the page
it holds. Uploads are hostile like pages: sizes are capped before and after decompression, archives are read
in memory (nothing is written where a member's name points), and nothing in them is ever run."""
from __future__ import annotations

import email
import email.policy
import gzip
import io
import re
import zipfile
from dataclasses import dataclass, field

MAX_UPLOAD = 25 * 1024 * 1024  # bytes as uploaded
MAX_UNPACKED = 50 * 1024 * 1024  # bytes once decompressed (a WARC.gz, a WACZ member)
MAX_RATIO = 100  # decompressed / compressed: past this a member is a bomb, not a page
MAX_PIXELS = 40_000_000  # a screenshot larger than this is refused (decompression bomb)


class UploadRefused(ValueError):
    """Why an upload cannot be taken; nothing of it is stored."""


@dataclass
class Upload:
    kind: str  # html | mhtml | warc | wacz | pdf | image
    media_type: str
    data: bytes  # the file as uploaded: the evidence
    html: bytes | None = None  # the page it holds, for reading its fields
    url: str | None = None  # the address the file says it came from
    text: str = ""  # its readable text
    title: str | None = None
    images: list[bytes] = field(default_factory=list)
    charset: str | None = None  # the page's, where the file says it outside the page (MHTML part, WARC header)


def _sniff(data: bytes) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "wacz"
    if head.startswith(b"\x1f\x8b") or head.startswith(b"WARC/1."):
        return "warc"
    lowered = head.lower()
    if re.search(rb"^(from|mime-version|snapshot-content-location|subject|date|content-type):", lowered, re.M) \
            and b"multipart/related" in data[:8192].lower():
        return "mhtml"
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<div", b"<p", b"<!--")):
        return "html"
    raise UploadRefused("not a page, archive, PDF or picture wildwatch reads (HTML, MHTML, WARC, WACZ, PDF, "
                        "PNG or JPEG, told by the file's bytes)")


def _inflate(compressed: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
            if out.tell() > min(MAX_UNPACKED, max(len(compressed), 1) * MAX_RATIO):
                raise UploadRefused("the archive unpacks to far more than its size: refused as a decompression bomb")
    return out.getvalue()


def page_text(html: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """(readable text, title) of a page: scripts, styles and templates left out, never run."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml", from_encoding=charset)
    for node in soup(["script", "style", "noscript", "template", "iframe", "object", "embed"]):
        node.decompose()
    title = None
    og = soup.find("meta", attrs={"property": "og:title"})
    if og and og.get("content"):
        title = og["content"].strip()
    elif soup.title and soup.title.string:
        title = soup.title.string.strip()
    body = soup.body or soup
    text = " ".join(body.get_text(" ").split())
    return text[:20000], (title or None)


def _warc_page(data: bytes) -> tuple[bytes | None, str | None, str | None]:
    """The first HTML response in a WARC (plain or gzipped): its body, address and declared charset."""
    from warcio.archiveiterator import ArchiveIterator

    raw = _inflate(data) if data[:2] == b"\x1f\x8b" else data
    if len(raw) > MAX_UNPACKED:
        raise UploadRefused("the archive is larger than wildwatch reads")
    try:
        for record in ArchiveIterator(io.BytesIO(raw)):
            if record.rec_type != "response":
                continue
            kind = (record.http_headers.get_header("Content-Type") or "") if record.http_headers else ""
            body = record.content_stream().read(MAX_UNPACKED + 1)
            if len(body) > MAX_UNPACKED:
                raise UploadRefused("a page in the archive is larger than wildwatch reads")
            if "html" in kind.lower() or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
                found = re.search(r"charset=([\w.:-]+)", kind, re.I)
                return body, record.rec_headers.get_header("WARC-Target-URI"), found.group(1) if found else None
    except UploadRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken archive is the uploader's problem, said plainly
        raise UploadRefused(f"the WARC cannot be read: {type(exc).__name__}") from None
    raise UploadRefused("the archive holds no HTML page")


def _wacz_page(data: bytes) -> tuple[bytes | None, str | None, str | None]:
    """A WACZ is a ZIP with its WARCs under archive/: read in memory, member by member, within the caps."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadRefused("the ZIP cannot be read") from None
    members = archive.infolist()
    if len(members) > 10_000 or sum(m.file_size for m in members) > MAX_UNPACKED * 4:
        raise UploadRefused("the ZIP unpacks to far more than its size: refused as a decompression bomb")
    warcs = [m for m in members if re.fullmatch(r"archive/[^/]+\.warc(\.gz)?", m.filename)]
    if not warcs:
        raise UploadRefused("not a WACZ: no archive/*.warc(.gz) inside")
    for member in warcs:
        if member.file_size > MAX_UNPACKED or member.file_size > max(member.compress_size, 1) * MAX_RATIO:
            raise UploadRefused("a file in the ZIP unpacks to far more than its size: refused as a decompression bomb")
        with archive.open(member) as stream:
            body = stream.read(MAX_UNPACKED + 1)
        try:
            return _warc_page(body)
        except UploadRefused as exc:
            if "no HTML page" not in str(exc):
                raise
    raise UploadRefused("the WACZ holds no HTML page")


def _mhtml(data: bytes) -> tuple[bytes, str | None, list[bytes], str | None]:
    """Chrome's "single file" page: a MIME message whose first text/html part is the page."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    url = message.get("Snapshot-Content-Location")
    html, images, charset = None, [], None
    for part in message.walk():
        kind = part.get_content_type()
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        if kind == "text/html" and html is None:
            html, charset = payload, part.get_content_charset()
            url = url or part.get("Content-Location")
        elif kind in ("image/jpeg", "image/png") and len(images) < 20:
            images.append(payload)
    if html is None:
        raise UploadRefused("the MHTML holds no HTML page")
    return html, url, images, charset


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = reader.pages[:50]
        return " ".join(" ".join((page.extract_text() or "").split()) for page in pages)[:20000]
    except Exception as exc:  # noqa: BLE001 - a broken PDF is kept as evidence only if it reads
        raise UploadRefused(f"the PDF cannot be read: {type(exc).__name__}") from None


def check_image(data: bytes) -> str:
    """The image's media type, once Pillow has read it fully within the pixel cap."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            if image.width * image.height > MAX_PIXELS:
                raise UploadRefused("the picture is larger than wildwatch reads")
            image.verify()
    except UploadRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - DecompressionBombError, truncated files, anything not an image
        raise UploadRefused(f"the picture cannot be read: {type(exc).__name__}") from None
    if kind not in ("PNG", "JPEG"):
        raise UploadRefused("pictures are PNG or JPEG")
    return "image/png" if kind == "PNG" else "image/jpeg"


MEDIA = {"html": "text/html", "mhtml": "multipart/related", "warc": "application/warc", "wacz": "application/wacz",
         "pdf": "application/pdf"}


def read(data: bytes) -> Upload:
    if not data:
        raise UploadRefused("the file is empty")
    if len(data) > MAX_UPLOAD:
        raise UploadRefused(f"the file is over {MAX_UPLOAD // (1024 * 1024)} MB")
    kind = _sniff(data)
    if kind == "image":
        return Upload(kind, check_image(data), data, images=[data])
    if kind == "pdf":
        return Upload(kind, MEDIA[kind], data, text=_pdf_text(data))
    url, images, charset = None, [], None
    if kind == "html":
        html = data
    elif kind == "mhtml":
        html, url, images, charset = _mhtml(data)
    elif kind == "warc":
        html, url, charset = _warc_page(data)
    else:
        html, url, charset = _wacz_page(data)
    text, title = page_text(html, charset)
    return Upload(kind, MEDIA[kind], data, html=html, url=url, text=text, title=title, images=images,
                  charset=charset)
