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
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SEARCH_FIELDS = {"title", "price", "location", "seller", "seller_url", "seller_id", "posted", "image", "description"}
DETAIL_FIELDS = {"title", "price", "seller", "seller_url", "seller_id", "location", "posted", "description", "images"}
POST_FIELDS = {"author", "author_url", "author_id", "text", "images", "posted"}
KINDS = ("marketplace", "forum")
PAGING = {"page": ("param",), "offset": ("param", "size"), "cursor": ("param", "from"), "next_url": ("from",),
          "click": ("selector",)}
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# A site file may set what a JSON API needs, never who we are or a session.
FORBIDDEN_HEADERS = {"cookie", "authorization", "user-agent", "host", "proxy-authorization"}


class SiteError(ValueError):
    pass


@dataclass(frozen=True)
class JsonSpec:
    """Where a JSON answer (or a page's JSON script) holds the results, and JMESPath paths into each."""

    items: str | None  # path to the list of results (search); None on item answers
    fields: dict[str, str]  # field -> path, or an address template ("{base_url}/{list_id}.htm")
    link: str | None = None  # the listing's address: a path or a template
    script: str | None = None  # JSON carried by an HTML page: a <script id> or an assignment (window.data)
    skip: str | None = None  # path on each result; truthy means not a search result (a paid placement)
    capture: str | None = None  # browser sites: read the JSON answers whose address contains this
    # A path to where the answer is, when pages carry it wrapped (Next.js: props.initialState...): every other
    # path reads from there. Where it finds nothing, the whole JSON is read (an API answer of the same shape).
    root: str | None = None


@dataclass(frozen=True)
class Paging:
    """How the next search page is asked for, when the answer carries no next-page link."""

    by: str  # page | offset | cursor | next_url | click
    param: str | None = None  # the query parameter set on the next request
    size: int | None = None  # offset: results per page (also sent as size_param when given)
    size_param: str | None = None
    start: int = 0  # first page number or offset (the search url's own value)
    source: str | None = None  # cursor / next_url: the path to it in the answer
    more: str | None = None  # a path whose falsy value says this was the last page
    # click: browser sites whose page asks for its next answer itself (Xianyu's pager): the control to click.
    # Every answer the page then receives is read, up to max_pages_per_query.
    selector: str | None = None


@dataclass(frozen=True)
class SearchSpec:
    url: str
    results: str | None
    link: str
    next_page: str | None = None
    no_results: str | None = None
    wait_for: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    json: JsonSpec | None = None
    paging: Paging | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Some sites ship part of their markup inside HTML comments, rendered by script (Tieba's PC thread list):
    # read it as markup.
    read_comments: bool = False


@dataclass(frozen=True)
class DetailSpec:
    fields: dict[str, str]
    wait_for: str | None = None
    needs_browser: bool | None = None  # None: as the site
    json: JsonSpec | None = None
    url: str | None = None  # JSON sites: the address template of the item's answer, over the search result
    headers: dict[str, str] = field(default_factory=dict)
    # Forums: a thread page is the listing. `posts` selects each post; `post` reads one (author, text, ...).
    posts: str | None = None
    post: dict[str, str] = field(default_factory=dict)


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
    kind: str = "marketplace"  # or "forum": threads are the listings (see sites/README.md)

    def photo_host_allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        own = self.domain.removeprefix("www.")
        return any(host == h or host.endswith("." + h) for h in (own, *self.image_hosts))

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def search_url(self, query: str) -> str:
        from urllib.parse import quote_plus

        start = self.search.paging.start if self.search.paging else 0
        return self.search.url.format(base_url=self.base_url.rstrip("/"), query=quote_plus(query), start=start)

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
    search_doc = _migrate_embedded_json(_require(doc, "search", where, dict), where + " search")
    search_fields = dict(search_doc.get("fields") or {})
    if set(search_fields) - SEARCH_FIELDS:
        raise SiteError(f"{where}: unknown search fields {sorted(set(search_fields) - SEARCH_FIELDS)}")
    search = SearchSpec(url=_require(search_doc, "url", where + " search"),
                        results=search_doc.get("results"),
                        json=_json_spec(search_doc, where + " search", search=True),
                        link=search_doc.get("link"),
                        next_page=search_doc.get("next_page"), no_results=search_doc.get("no_results"),
                        wait_for=search_doc.get("wait_for"), fields=search_fields,
                        paging=_paging(search_doc.get("paging"), where),
                        read_comments=bool(search_doc.get("read_comments", False)),
                        headers=_headers(search_doc.get("headers"), where + " search"))
    if not search.json and not (search.results and search.link):
        raise SiteError(f"{where}: search needs 'results' and 'link' (HTML) or 'json' (JSON answers)")
    if search.results and not search.link:
        raise SiteError(f"{where} search: 'link' is required with 'results'")
    if "{query}" not in search.url:
        raise SiteError(f"{where}: search url needs a {{query}} placeholder")
    detail = None
    if doc.get("detail"):
        if not isinstance(doc["detail"], dict):
            raise SiteError(f"{where}: detail must be a mapping")
        detail_fields = dict(doc["detail"].get("fields") or {})
        if set(detail_fields) - DETAIL_FIELDS:
            raise SiteError(f"{where}: unknown detail fields {sorted(set(detail_fields) - DETAIL_FIELDS)}")
        detail_doc = doc["detail"]
        post = dict(detail_doc.get("post") or {})
        if set(post) - POST_FIELDS:
            raise SiteError(f"{where}: unknown post fields {sorted(set(post) - POST_FIELDS)}")
        detail = DetailSpec(fields=detail_fields, wait_for=detail_doc.get("wait_for"),
                            needs_browser=detail_doc.get("needs_browser"),
                            json=_json_spec(detail_doc, where + " detail", search=False),
                            url=detail_doc.get("url"), headers=_headers(detail_doc.get("headers"), where + " detail"),
                            posts=detail_doc.get("posts"), post=post)
        if detail.url and not (search.json and detail.json):
            raise SiteError(f"{where}: detail 'url' (an item API) needs JSON search results and a detail 'json'")
        if detail.url:
            _check_path(detail.url, where + " detail url")
        if not (detail.fields or detail.json or detail.posts):
            raise SiteError(f"{where}: detail needs fields (selectors), json (paths) or posts (a forum)")
    browsing = bool(doc.get("needs_browser", False))
    if search.paging and search.paging.by == "click" and not (browsing and search.json and search.json.capture):
        raise SiteError(f"{where}: paging by click reads the answers a page receives: it needs needs_browser "
                        "and json capture")
    if detail and detail.json and detail.json.capture and not \
            (detail.needs_browser if detail.needs_browser is not None else browsing):
        raise SiteError(f"{where}: detail json capture reads what a browser receives: it needs needs_browser")
    kind = doc.get("kind", "marketplace")
    if kind not in KINDS:
        raise SiteError(f"{where}: kind is one of {', '.join(KINDS)}")
    if kind == "forum" and not (detail and detail.posts and "text" in detail.post and
                                ("author" in detail.post or "author_url" in detail.post)):
        raise SiteError(f"{where}: a forum reads thread pages: detail needs 'posts' and 'post' with text and author")
    titled = [search.fields, search.json.fields if search.json else {}, detail.fields if detail else {},
              detail.json.fields if detail and detail.json else {}]
    if not any("title" in f for f in titled):
        raise SiteError(f"{where}: no selector gives the title")
    politeness = doc.get("politeness") or {}
    # Deployments point a site at a mirror or a test server without editing the file.
    env_key = f"WILDWATCH_BASE_URL__{name.upper()}"
    return Site(
        name=name, title=doc.get("title", name), country=country, languages=languages,
        base_url=os.environ.get(env_key) or doc.get("base_url") or _demo_base_url(doc, where)
        or _require(doc, "base_url", where),
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
        kind=kind,
    )


def _migrate_embedded_json(search_doc: dict, where: str) -> dict:
    """The older `embedded_json: {variable, items, skip_if}` form (link and fields named JSON keys) reads as the
    `json:` block it is, so site files written for it keep working."""
    old = search_doc.get("embedded_json")
    if not old or search_doc.get("json"):
        return search_doc
    if not isinstance(old, dict):
        raise SiteError(f"{where}: embedded_json must be a mapping")
    spec = {"script": _require(old, "variable", where + " embedded_json"),
            "items": _require(old, "items", where + " embedded_json"),
            "link": _require(search_doc, "link", where), "fields": dict(search_doc.get("fields") or {})}
    if old.get("skip_if"):
        spec["skip"] = old["skip_if"]
    rest = {k: v for k, v in search_doc.items() if k not in ("embedded_json", "link", "fields")}
    return {**rest, "json": spec}


def _check_path(spec, where: str) -> None:
    from spiders.jsondata import PathError, check_spec

    if not isinstance(spec, str) or not spec.strip():
        raise SiteError(f"{where}: expected a JMESPath expression or an address template")
    try:
        check_spec(spec)
    except PathError as exc:
        raise SiteError(f"{where}: {exc}") from None


def _json_spec(doc: dict, where: str, search: bool) -> JsonSpec | None:
    """A `json:` block: where the results are and the paths into each."""
    spec = doc.get("json")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise SiteError(f"{where}: json must be a mapping")
    allowed = {"items", "link", "fields", "script", "skip", "capture", "root"}
    if set(spec) - allowed:
        raise SiteError(f"{where}: unknown json keys {sorted(set(spec) - allowed)}")
    fields = dict(spec.get("fields") or {})
    known = SEARCH_FIELDS if search else DETAIL_FIELDS
    if set(fields) - known:
        raise SiteError(f"{where}: unknown json fields {sorted(set(fields) - known)}")
    if search:
        _require(spec, "items", where + " json")
        _require(spec, "link", where + " json")
    for key in ("items", "link", "skip", "root"):
        if spec.get(key) is not None:
            _check_path(spec[key], f"{where} json {key}")
    for name, path in fields.items():
        _check_path(path, f"{where} json field {name}")
    return JsonSpec(items=spec.get("items"), fields=fields, link=spec.get("link"), script=spec.get("script"),
                    skip=spec.get("skip"), capture=spec.get("capture"), root=spec.get("root"))


def _paging(doc, where: str) -> Paging | None:
    if doc is None:
        return None
    if not isinstance(doc, dict) or doc.get("by") not in PAGING:
        raise SiteError(f"{where}: paging.by is one of {', '.join(PAGING)}")
    allowed = {"by", "param", "size", "size_param", "start", "from", "more", "selector"}
    if set(doc) - allowed:
        raise SiteError(f"{where}: unknown paging keys {sorted(set(doc) - allowed)}")
    for key in PAGING[doc["by"]]:
        if doc.get(key) in (None, ""):
            raise SiteError(f"{where}: paging by {doc['by']} needs '{key}'")
    for key in ("from", "more"):
        if doc.get(key) is not None:
            _check_path(doc[key], f"{where} paging {key}")
    if doc.get("selector") is not None:
        try:
            from parsel import Selector

            Selector(text="<p></p>").css(str(doc["selector"]))
        except Exception:  # noqa: BLE001 - cssselect's own errors: a selector the page could never match
            raise SiteError(f"{where}: paging selector {str(doc['selector'])[:80]!r} is not valid CSS") from None
    try:
        size = int(doc["size"]) if doc.get("size") is not None else None
        start = int(doc.get("start", 1 if doc["by"] == "page" else 0))
    except (TypeError, ValueError):
        raise SiteError(f"{where}: paging size and start are whole numbers") from None
    if size is not None and not 0 < size <= 1000:
        raise SiteError(f"{where}: paging size must be between 1 and 1000")
    return Paging(by=doc["by"], param=doc.get("param"), size=size, size_param=doc.get("size_param"), start=start,
                  source=doc.get("from"), more=doc.get("more"), selector=doc.get("selector"))


def _headers(doc, where: str) -> dict[str, str]:
    if not doc:
        return {}
    if not isinstance(doc, dict):
        raise SiteError(f"{where}: headers must be a mapping")
    out = {}
    for name, value in doc.items():
        if not isinstance(name, str) or not HEADER_NAME.match(name) or not isinstance(value, str) or \
                any(c in value for c in "\r\n\x00"):
            raise SiteError(f"{where}: header {name!r} is not a plain name and one-line value")
        if name.lower() in FORBIDDEN_HEADERS:
            raise SiteError(f"{where}: header {name!r} is not allowed (no sessions, no disguise)")
        out[name] = value
    return out


CHECK_FIELDS = {"page", "kind", "url", "results", "next_page", "fields", "encoding_sample", "expect", "first", "script"}


def _demo_base_url(doc: dict, where: str) -> str | None:
    """A demo marketplace's address: `wildwatch demo-site` serves the n-th on the demo port + n."""
    if "demo_server" not in doc:
        return None
    offset = doc["demo_server"]
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 100:
        raise SiteError(f"{where}: demo_server is the demo site's offset from the demo port (a small whole number)")
    return f"http://127.0.0.1:{config.load().demo_port + offset}"


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


def switched_on(directory: Path | None = None) -> list[str]:
    """Names of the site files not marked `enabled: false`, read without checking the rest of the file (the
    survey DAG is built from this at every parse). A file that cannot be read counts as on: its crawl then fails
    and says why, rather than the site silently dropping out of the survey."""
    names = []
    for name, path in site_files(directory).items():
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            doc = None
        if not (isinstance(doc, dict) and doc.get("enabled", True) is False):
            names.append(name)
    return names


def load_all(directory: Path | None = None) -> list[Site]:
    return [load(name, directory) for name in site_files(directory)]
