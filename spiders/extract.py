"""Reading search and detail pages with a site's selectors: pure functions of the response, so every
site can be tested offline on saved pages."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spiders import jsondata
from spiders.structured import structured_fields
from wildwatch.sites import Site

MULTI_VALUED = {"images", "image"}
COMMENT_MARKS = re.compile(rb"<!--|-->")


def _text(values: list[str]) -> str | None:
    joined = " ".join(" ".join(v.split()) for v in values if v and v.strip())
    return joined or None


def select(selector, expr: str):
    """A site selector: CSS (with Scrapy's ::text and ::attr()), or XPath when written "xpath:...", for what
    CSS cannot say (the price just before the main title, results without a sponsored link)."""
    return selector.xpath(expr[6:]) if expr.startswith("xpath:") else selector.css(expr)


def read_fields(selector, selectors: dict[str, str]) -> dict:
    out = {}
    for name, css in selectors.items():
        values = select(selector, css).getall()
        out[name] = [v.strip() for v in values if v.strip()] if name in MULTI_VALUED else _text(values)
    return out


LINK_FIELDS = ("image", "images", "seller_url")


def _absolute(fields: dict, response) -> dict:
    """Link fields (photos, the seller's profile) as absolute addresses."""
    for key in LINK_FIELDS:
        value = fields.get(key)
        if value:
            fields[key] = [response.urljoin(u) for u in value] if isinstance(value, list) else response.urljoin(value)
    return fields


@dataclass
class SearchPage:
    results: list[dict] = field(default_factory=list)  # each: url + search-page fields
    next_url: str | None = None
    empty_ok: bool = False  # the page says "no results" in the site's own words
    # Why the page could not be read (an answer that is not JSON, a results path matching nothing): recorded
    # on the run in the site's words, never a traceback.
    problem: str | None = None
    # Results left out, by reason ("no address"): counted on the run.
    skipped: dict[str, int] = field(default_factory=dict)
    data: Any = None  # the JSON answer, for paging paths
    size: int = 0  # results the answer held, before paid placements and repeats were left out

    @property
    def layout_broken(self) -> bool:
        return not self.results and not self.empty_ok


def _json_fields(names: dict[str, str], data, base_url: str) -> dict:
    out = {}
    for name, spec in names.items():
        if name in MULTI_VALUED:
            out[name] = jsondata.strings(jsondata.search(spec, data)) if not jsondata.is_template(spec) else \
                [v for v in [jsondata.render(spec, data, base_url)] if v]
        else:
            out[name] = jsondata.render(spec, data, base_url)
    return out


def _answer(spec, response, captured) -> Any:
    """The JSON a page gives: its body or a script it carries, or for capture sites the answers its scripts
    received (several, when the page was paged in place: read together)."""
    if spec.capture:
        if captured is None:  # a saved answer (checks, tests): the body is the answer the page received
            return jsondata.load(response.text, _content_type(response), spec.script)
        if not captured:
            raise jsondata.JsonUnreadable(f"the page received no answer from an address containing {spec.capture!r}")
        answers = [jsondata.parse_body(body) for body in captured]
        if spec.items is None:  # an item page: its one answer
            return answers[0]
        found = [a for a in answers if isinstance(jsondata.search(spec.items, a), list)]
        return found[0] if len(found) == 1 else {"answers": found} if found else answers[0]
    return jsondata.load(response.text, _content_type(response), spec.script)


def rooted(spec, data):
    """The part of the JSON a site file's paths read: under `root` when it finds something there."""
    if spec.root:
        found = jsondata.search(spec.root, data)
        if found is not None:
            return found
    return data


def _content_type(response) -> str:
    value = response.headers.get(b"Content-Type") if hasattr(response, "headers") else None
    return value.decode("latin-1") if value else ""


def _extract_json(site: Site, response, captured=None) -> SearchPage | None:
    """Results from a JSON answer, or from JSON a page carries. None when an HTML page holds no such JSON and
    the site's selectors should read it (Jiji's older pages)."""
    spec = site.search.json
    page = SearchPage()
    html_fallback = bool(site.search.results) and not jsondata.looks_like_json(response.text, _content_type(response))
    try:
        data = rooted(spec, _answer(spec, response, captured))
    except jsondata.JsonUnreadable as exc:
        if html_fallback:
            return None
        page.problem = str(exc)
        return page
    items = _items(spec.items, data)
    if items is None:
        if html_fallback:
            return None
        page.problem = f"the results path {spec.items!r} matched nothing in the answer"
        page.data = data
        return page
    page.data = data
    page.size = len(items)
    placements = 0
    base = site.base_url
    seen = set()
    for item in items:
        if spec.skip and jsondata.search(spec.skip, item):
            placements += 1
            continue
        href = jsondata.render(spec.link, item, base)
        if not href:
            page.skipped["result without an address"] = page.skipped.get("result without an address", 0) + 1
            continue
        link = response.urljoin(href)
        if not _web_address(link):
            page.skipped["result without a web address"] = page.skipped.get("result without a web address", 0) + 1
            continue
        url = site.canonical_url(link)
        if url in seen:
            continue
        seen.add(url)
        result = {"url": url, "link": link, **_absolute(_json_fields(spec.fields, item, base), response)}
        if site.detail and site.detail.url:
            fetch = jsondata.render(site.detail.url, item, base)
            if not fetch:
                page.skipped["result without an item address"] = page.skipped.get("result without an item address", 0) + 1
                continue
            result["_fetch"] = response.urljoin(fetch)
        page.results.append(result)
    page.empty_ok = placements == len(items)  # nothing, or paid placements only: the site found nothing
    return page


def _web_address(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _items(path: str, data) -> list | None:
    if isinstance(data, dict) and set(data) == {"answers"}:  # several captured answers: their results together
        lists = [jsondata.search(path, a) for a in data["answers"]]
        return [x for sub in lists if isinstance(sub, list) for x in sub]
    items = jsondata.search(path, data)
    return items if isinstance(items, list) else None


def extract_search(site: Site, response, captured: list[bytes] | None = None) -> SearchPage:
    """`captured`: browser sites whose results come in JSON answers the page's own scripts receive."""
    if site.search.json:
        page = _extract_json(site, response, captured)
        if page is not None:
            if page.data is not None:
                page.next_url = _json_next(site, response, page.data)
            return page
    page = SearchPage()
    if not site.search.results:
        page.problem = "no results selector for an HTML page"
        return page
    if site.search.read_comments:
        response = response.replace(body=COMMENT_MARKS.sub(b"", response.body))
    seen = set()
    nodes = select(response, site.search.results)
    page.size = len(nodes)
    for node in nodes:
        href = select(node, site.search.link).get()
        if not href or not _web_address(response.urljoin(href.strip())):
            continue  # javascript:, data: and other non-web links are never listings
        url = site.canonical_url(response.urljoin(href.strip()))
        if url in seen:
            continue
        seen.add(url)
        page.results.append({"url": url, "link": response.urljoin(href.strip()),
                             **_absolute(read_fields(node, site.search.fields), response)})
    if site.search.next_page:
        href = select(response, site.search.next_page).get()
        page.next_url = response.urljoin(href.strip()) if href else None
    if site.search.no_results:
        page.empty_ok = bool(select(response, site.search.no_results))
    return page


def _json_next(site: Site, response, data) -> str | None:
    """The next page an answer announces (paging by next_url)."""
    paging = site.search.paging
    if not paging or paging.by != "next_url":
        return None
    href = jsondata.render(paging.source, data, site.base_url)
    return response.urljoin(href) if href else None


def next_search_url(site: Site, response, page: SearchPage, page_no: int) -> str | None:
    """The address of the page after `page_no` (counted from 1), or None when this was the last."""
    if page.next_url:
        return page.next_url
    paging = site.search.paging
    if not paging or paging.by in ("next_url", "click") or not page.results:
        return None  # an empty page ends the query, whatever the paging
    if paging.more and page.data is not None and not jsondata.search(paging.more, page.data):
        return None
    if paging.size and page.size < paging.size:
        return None  # a short page is the last one
    if paging.by == "page":
        value = paging.start + page_no
    elif paging.by == "offset":
        value = paging.start + page_no * paging.size
    else:  # cursor
        value = jsondata.render(paging.source, page.data, site.base_url) if page.data is not None else None
        if not value:
            return None
    params = {paging.param: str(value)}
    if paging.by == "offset" and paging.size_param:
        params[paging.size_param] = str(paging.size)
    return with_params(response.url, params)


def with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(pairs + list(params.items()))))


FALLBACK_FIELDS = ("title", "price", "seller", "description", "images")


def extract_detail(site: Site, response, captured: list[bytes] | None = None) -> dict:
    """The site's selectors (or JSON paths) first; what they miss comes from the page's structured data, and
    the fields so filled are listed under "_structured" (a crawl-health signal: selectors going stale). An
    answer that cannot be read gives {"_problem": why}. `captured`: as for extract_search."""
    detail = site.detail
    if detail and detail.json and (detail.json.script or captured is not None or
                                   jsondata.looks_like_json(response.text, _content_type(response))):
        try:
            data = rooted(detail.json, _answer(detail.json, response, captured))
        except jsondata.JsonUnreadable as exc:
            if detail.fields:  # an HTML item page without its JSON: the selectors read it
                return _html_detail(site, response)
            return {"_problem": str(exc)}
        fields = _json_fields(detail.json.fields, data, site.base_url)
        if not any(fields.values()):
            return {"_problem": "no item path matched anything in the answer"}
        return _absolute(fields, response)
    if detail and detail.posts:
        return _absolute(extract_thread(site, response), response)
    return _html_detail(site, response)


def _same_author(a: dict, b: dict) -> bool:
    """Two posts by one account: by its link or id when the forum shows one, by the shown name otherwise."""
    for key in ("author_url", "author_id"):
        if a.get(key) or b.get(key):
            return bool(a.get(key)) and a.get(key) == b.get(key)
    return bool(a.get("author")) and a.get("author") == b.get("author")


def extract_thread(site: Site, response) -> dict:
    """A forum thread as a listing: its first post is the text, that post's author the seller; the author's
    later posts in the thread (where traders leave a WeChat id) are kept as `replies`."""
    detail = site.detail
    fields = read_fields(response, detail.fields)
    posts = [read_fields(node, detail.post) for node in select(response, detail.posts)]
    posts = [p for p in posts if p.get("text") or p.get("images")]
    if not posts:
        return fields
    first = posts[0]
    for key, post_key in (("description", "text"), ("seller", "author"), ("seller_url", "author_url"),
                          ("seller_id", "author_id"), ("images", "images"), ("posted", "posted")):
        if first.get(post_key) and not fields.get(key):
            fields[key] = first[post_key]
    replies = [p["text"] for p in posts[1:] if p.get("text") and _same_author(first, p)]
    if replies:
        fields["replies"] = "\n".join(replies)
    return fields


def _html_detail(site: Site, response) -> dict:
    fields = read_fields(response, site.detail.fields if site.detail else {})
    missing = [k for k in FALLBACK_FIELDS if not fields.get(k)]
    if missing:
        declared = structured_fields(response.text, response.url)
        filled = [k for k in missing if declared.get(k)]
        for key in filled:
            fields[key] = declared[key]
        if filled and declared.get("currency"):
            fields["currency_hint"] = declared["currency"]
        if filled:
            fields["_structured"] = filled
    return _absolute(fields, response)
