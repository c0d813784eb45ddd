"""One WARC file per captured page: the request as sent and the response as received (WARC/1.1, gzip),
readable by any WARC tool (warcio, pywb, the Wayback Machine's tooling)."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class PageCapture:
    """What the crawler saw of one page; kept on the item until the evidence pipeline decides."""
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    browser: bool = False  # the body is the DOM after the browser ran the page's scripts

    @classmethod
    def from_response(cls, response) -> "PageCapture":
        def pairs(headers):
            out = []
            for key, values in headers.items():
                for value in values:
                    out.append((key.decode("latin-1"), value.decode("latin-1")))
            return out

        return cls(url=response.url, status=response.status, headers=pairs(response.headers),
                   body=response.body, method=response.request.method,
                   request_headers=pairs(response.request.headers),
                   browser=bool(response.request.meta.get("playwright")))


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def build(page: PageCapture, warc_headers: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    parts = urlsplit(page.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
    req_headers = [h for h in page.request_headers if h[0].lower() != "host"]
    req_http = StatusAndHeaders(f"{page.method} {target} HTTP/1.1", [("Host", parts.netloc), *req_headers],
                                is_http_request=True)
    request = writer.create_warc_record(page.url, "request", payload=io.BytesIO(b""), http_headers=req_http,
                                        warc_headers_dict=warc_headers)
    # The body is stored as received (already decoded from any transfer or content encoding by the crawler):
    # say so, or a WARC reader would try to decompress it again.
    headers = [(k, v) for k, v in page.headers
               if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")]
    headers.append(("Content-Length", str(len(page.body))))
    resp_http = StatusAndHeaders(f"{page.status} {_reason(page.status)}", headers, protocol="HTTP/1.1")
    response = writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.body),
                                         http_headers=resp_http, warc_headers_dict=warc_headers)
    writer.write_record(request)
    writer.write_record(response)
    return out.getvalue()


def content_type(data: bytes) -> str | None:
    """The Content-Type the archived answer was served with."""
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            return record.http_headers.get_header("Content-Type")
    return None


def read_response(data: bytes) -> tuple[str, int, bytes]:
    """(url, status, body) of the response record in a WARC written by build()."""
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            return (record.rec_headers.get_header("WARC-Target-URI"),
                    int(record.http_headers.get_statuscode()), record.content_stream().read())
    raise ValueError("no response record in this WARC")
