"""A public page an analyst found, fetched as a crawl fetches it: its robots.txt obeyed, our user agent, a
WARC of the answer and a screenshot. Its fields come from the site file when the address belongs to a known
site, else from the page's structured data; the analyst edits them before saving."""
from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
import urllib.robotparser
from urllib.parse import urlsplit

from wildwatch import config
from wildwatch.evidence.warc import PageCapture
from wildwatch.hand.files import MAX_UPLOAD, UploadRefused, page_text


def get(url: str, agent: str, limit: int, timeout: float = 30.0) -> tuple[str, int, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept": "text/html,*/*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) checked by caller
            body = answer.read(limit + 1)
            return answer.geturl(), answer.status, list(answer.headers.items()), body
    except urllib.error.HTTPError as exc:
        return url, exc.code, list(exc.headers.items()), exc.read(limit + 1)


def allowed(url: str, agent: str) -> bool:
    parts = urlsplit(url)
    robots = f"{parts.scheme}://{parts.netloc}/robots.txt"
    try:
        _, status, _, body = get(robots, agent, 512 * 1024, timeout=15)
    except (OSError, ValueError):
        return True  # no robots.txt to read: as Scrapy does, the page may be fetched
    if status >= 400:
        return True
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(body.decode("utf-8", "replace").splitlines())
    return parser.can_fetch(agent, url)


def fields_of(url: str, html: bytes) -> dict:
    """title, description, seller, price... as the site file reads them, or as the page declares them."""
    from scrapy.http import HtmlResponse

    from spiders.extract import extract_detail
    from spiders.structured import structured_fields
    from wildwatch import sites

    host = (urlsplit(url).hostname or "").removeprefix("www.")
    for site in sites.load_all():
        if site.detail and site.domain.removeprefix("www.") == host:
            found = extract_detail(site, HtmlResponse(url=url, body=html, encoding="utf-8"))
            found.pop("_structured", None)
            found.pop("_problem", None)
            return {k: v for k, v in found.items() if v} | {"site": site.name}
    declared = structured_fields(html.decode("utf-8", "replace"), url)
    text, title = page_text(html)
    return {"title": declared.get("title") or title, "description": declared.get("description") or text[:4000],
            "seller": declared.get("seller"), "price": declared.get("price"), "currency": declared.get("currency")}


def fetch(url: str, with_screenshot: bool = True) -> tuple[PageCapture, dict, dict | None]:
    """(the page as fetched, its fields, a screenshot evidence row or None). UploadRefused when robots.txt
    refuses it or it is not a page."""
    settings = config.load()
    agent = settings.user_agent
    if not allowed(url, agent):
        raise UploadRefused("the site's robots.txt refuses this page to crawlers: save it in your browser and "
                            "upload the file instead")
    try:
        final, status, headers, body = get(url, agent, MAX_UPLOAD)
    except (OSError, ValueError) as exc:
        raise UploadRefused(f"the page could not be fetched: {exc}") from None
    if len(body) > MAX_UPLOAD:
        raise UploadRefused("the page is larger than wildwatch keeps")
    page = PageCapture(url=final, status=status, headers=headers, body=body)
    if status >= 400:
        raise UploadRefused(f"the site answered {status}")
    fields = fields_of(final, body)
    shot = asyncio.run(screenshot(page, settings)) if with_screenshot else None
    return page, fields, shot


async def screenshot(page: PageCapture, settings) -> dict | None:
    from wildwatch.evidence import capture
    from wildwatch.evidence.screenshot import Renderer
    from wildwatch.evidence.store import open_store

    renderer = Renderer(timeout_s=settings.screenshot_timeout_s)
    try:
        return await capture.screenshot(page, open_store(settings.evidence_store), renderer, settings.evidence_max_bytes,
                                        f"{capture.crawler_version()} by-hand")
    finally:
        await renderer.close()
