"""Site definitions: one YAML file per marketplace in sites/, named after the site.

A site file says where to search, how to read its result and detail pages (CSS selectors with Scrapy's
::text and ::attr() extensions) and how politely to crawl it. See sites/README.md.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

from wildwatch import config
from wildwatch.keywords import LANGUAGES

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SEARCH_FIELDS = {"title", "price", "location", "seller", "seller_url", "posted", "image"}
DETAIL_FIELDS = {"title", "price", "seller", "seller_url", "location", "posted", "description", "images"}


class SiteError(ValueError):
    pass


@dataclass(frozen=True)
class EmbeddedJson:
    """Results carried as a JSON object assigned to a script variable (e.g. Taobao's g_page_config)."""

    variable: str
    items: str  # dotted path to the list of results
    skip_if: str | None = None  # a key whose truthy value marks a paid placement


@dataclass(frozen=True)
class SearchSpec:
    url: str
    results: str | None
    link: str
    next_page: str | None = None
    no_results: str | None = None
    wait_for: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    embedded_json: EmbeddedJson | None = None


@dataclass(frozen=True)
class DetailSpec:
    fields: dict[str, str]
    wait_for: str | None = None
    needs_browser: bool | None = None  # None: as the site


@dataclass(frozen=True)
class Site:
    name: str
    title: str
    country: str
    languages: tuple[str, ...]
    base_url: str
    currency: str | None
    search: SearchSpec
    detail: DetailSpec | None
    enabled: bool = True
    needs_browser: bool = False
    download_delay: float = 2.0
    concurrency: int = 1
    autothrottle: bool = True
    max_pages_per_query: int = 20
    drop_params: tuple[str, ...] = ()
    keep_params: tuple[str, ...] = ()  # when set, every other query parameter is dropped
    checks: tuple[dict, ...] = ()  # saved pages the site is proven on; see sites/README.md
    # Evidence: static pages are screenshotted too when set (browser pages always are).
    screenshot_static: bool = False
    # A selector present on a listing page once the platform took the listing down (takedown follow-up).
    removed_marker: str | None = None
    # Hosts other than the site's own that may serve its listing photos (a CDN); photos elsewhere are refused.
    image_hosts: tuple[str, ...] = ()
    # Incremental surveys (listings whose search card is unchanged are not fetched again); a site whose cards
    # do not show what changes on the listing page opts out.
    incremental: bool = True

    def photo_host_allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        own = self.domain.removeprefix("www.")
        return any(host == h or host.endswith("." + h) for h in (own, *self.image_hosts))

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def search_url(self, query: str) -> str:
        from urllib.parse import quote_plus

        return self.search.url.format(base_url=self.base_url.rstrip("/"), query=quote_plus(query))

    def canonical_url(self, url: str) -> str:
        """The listing's identity: no fragment, no tracking parameters, parameters in a stable order."""
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if self.keep_params:
            query = sorted((k, v) for k, v in pairs if k in self.keep_params)
        else:
            query = [] if "*" in self.drop_params else sorted((k, v) for k, v in pairs if k not in self.drop_params)
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def _require(doc: dict, key: str, where: str, kind=str):
    value = doc.get(key)
    if not isinstance(value, kind) or (isinstance(value, (str, list, dict)) and not value):
        raise SiteError(f"{where}: '{key}' is required ({kind.__name__})")
    return value


def parse(doc: dict, name: str) -> Site:
    where = f"site {name}"
    if not isinstance(doc, dict):
        raise SiteError(f"{where}: expected a mapping")
    if doc.get("name") != name:
        raise SiteError(f"{where}: 'name' must equal the file name ({name!r})")
    languages = tuple(_require(doc, "languages", where, list))
    unknown = set(languages) - LANGUAGES
    if unknown:
        raise SiteError(f"{where}: unknown languages {sorted(unknown)}")
    country = _require(doc, "country", where)
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise SiteError(f"{where}: country must be an ISO 3166 alpha-2 code, got {country!r}")
    search_doc = _require(doc, "search", where, dict)
    search_fields = dict(search_doc.get("fields") or {})
    if set(search_fields) - SEARCH_FIELDS:
        raise SiteError(f"{where}: unknown search fields {sorted(set(search_fields) - SEARCH_FIELDS)}")
    embedded = None
    if search_doc.get("embedded_json"):
        spec = search_doc["embedded_json"]
        embedded = EmbeddedJson(variable=_require(spec, "variable", where + " embedded_json"),
                                items=_require(spec, "items", where + " embedded_json"), skip_if=spec.get("skip_if"))
    search = SearchSpec(url=_require(search_doc, "url", where + " search"),
                        results=None if embedded else _require(search_doc, "results", where + " search"),
                        embedded_json=embedded,
                        link=_require(search_doc, "link", where + " search"),
                        next_page=search_doc.get("next_page"), no_results=search_doc.get("no_results"),
                        wait_for=search_doc.get("wait_for"), fields=search_fields)
    if "{query}" not in search.url:
        raise SiteError(f"{where}: search url needs a {{query}} placeholder")
    detail = None
    if doc.get("detail"):
        detail_fields = dict(_require(doc["detail"], "fields", where + " detail", dict))
        if set(detail_fields) - DETAIL_FIELDS:
            raise SiteError(f"{where}: unknown detail fields {sorted(set(detail_fields) - DETAIL_FIELDS)}")
        detail = DetailSpec(fields=detail_fields, wait_for=doc["detail"].get("wait_for"),
                            needs_browser=doc["detail"].get("needs_browser"))
    if "title" not in search.fields and not (detail and "title" in detail.fields):
        raise SiteError(f"{where}: no selector gives the title")
    politeness = doc.get("politeness") or {}
    # Deployments point a site at a mirror or a test server without editing the file.
    env_key = f"WILDWATCH_BASE_URL__{name.upper()}"
    return Site(
        name=name, title=doc.get("title", name), country=country, languages=languages,
        base_url=os.environ.get(env_key) or _require(doc, "base_url", where),
        currency=doc.get("currency"), search=search, detail=detail,
        enabled=bool(doc.get("enabled", True)), needs_browser=bool(doc.get("needs_browser", False)),
        download_delay=float(politeness.get("download_delay", 2.0)),
        concurrency=int(politeness.get("concurrency", 1)),
        autothrottle=bool(politeness.get("autothrottle", True)),
        max_pages_per_query=int(doc.get("max_pages_per_query", 20)),
        drop_params=tuple(doc.get("drop_params") or ()),
        keep_params=tuple(doc.get("keep_params") or ()),
        checks=tuple(_checks(doc.get("checks") or [], where)),
        screenshot_static=bool((doc.get("evidence") or {}).get("screenshot_static", False)),
        removed_marker=doc.get("removed_marker"),
        image_hosts=tuple(h.lower().removeprefix("www.") for h in (doc.get("image_hosts") or ())),
        incremental=bool(doc.get("incremental", True)),
    )


CHECK_FIELDS = {"page", "kind", "url", "results", "next_page", "fields", "encoding_sample", "expect", "first"}


def _checks(entries: list, where: str) -> list[dict]:
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - CHECK_FIELDS:
            raise SiteError(f"{where}: checks[{i}] must be a mapping of {sorted(CHECK_FIELDS)}")
        if entry.get("kind") not in ("search", "search_empty", "detail"):
            raise SiteError(f"{where}: checks[{i}].kind is search, search_empty or detail")
        if not str(entry.get("page", "")).startswith(("realdata:", "fixtures:")):
            raise SiteError(f"{where}: checks[{i}].page starts with realdata: or fixtures:")
        out.append(entry)
    return out


def site_files(directory: Path | None = None) -> dict[str, Path]:
    directory = Path(directory or config.load().sites_dir)
    return {p.stem: p for p in sorted(directory.glob("*.yaml"))}


def load(name: str, directory: Path | None = None) -> Site:
    files = site_files(directory)
    if name not in files:
        raise SiteError(f"unknown site {name!r}; known: {', '.join(files) or 'none'}")
    if not NAME.match(name):
        raise SiteError(f"site file name {name!r} must be lower_snake_case")
    try:
        doc = yaml.safe_load(files[name].read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SiteError(f"site {name}: not valid YAML: {exc}") from exc
    return parse(doc, name)


def load_all(directory: Path | None = None) -> list[Site]:
    return [load(name, directory) for name in site_files(directory)]
