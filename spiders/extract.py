"""Reading search and detail pages with a site's selectors: pure functions of the response, so every
site can be tested offline on saved pages."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from spiders.structured import structured_fields
from wildwatch.sites import Site

MULTI_VALUED = {"images", "image"}


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

    @property
    def layout_broken(self) -> bool:
        return not self.results and not self.empty_ok


def _embedded_items(site: Site, text: str) -> list[dict] | None:
    """The result list from a JSON object assigned to a script variable; None when it is not there."""
    spec = site.search.embedded_json
    at = re.search(rf"{re.escape(spec.variable)}\s*=\s*{{", text)
    if not at:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(text[at.end() - 1:])
    except ValueError:
        return None
    for key in spec.items.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, list):
        return None
    return [item for item in data if isinstance(item, dict) and not (spec.skip_if and item.get(spec.skip_if))]


def _extract_embedded(site: Site, response) -> SearchPage:
    page = SearchPage()
    items = _embedded_items(site, response.text)
    if items is None:
        return page  # neither results nor a "no results" marker: reported as a layout problem
    page.empty_ok = not items
    seen = set()
    for item in items:
        href = item.get(site.search.link)
        if not isinstance(href, str) or not href.strip():
            continue
        link = response.urljoin(href.strip())
        url = site.canonical_url(link)
        if url in seen:
            continue
        seen.add(url)
        fields = {name: (str(item[key]).strip() if item.get(key) not in (None, "") else None)
                  for name, key in site.search.fields.items()}
        page.results.append({"url": url, "link": link, **_absolute(fields, response)})
    return page


def extract_search(site: Site, response) -> SearchPage:
    if site.search.embedded_json:
        return _extract_embedded(site, response)
    page = SearchPage()
    seen = set()
    for node in select(response, site.search.results):
        href = select(node, site.search.link).get()
        if not href:
            continue
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


FALLBACK_FIELDS = ("title", "price", "seller", "description", "images")


def extract_detail(site: Site, response) -> dict:
    """The site's selectors first; what they miss comes from the page's structured data, and the
    fields so filled are listed under "_structured" (a crawl-health signal: selectors going stale)."""
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
