"""Running a site's extraction on the saved pages its file lists under `checks` (tests, and later
`wildwatch sites check`)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from scrapy.http import HtmlResponse, Request, TextResponse

from spiders import jsondata
from spiders.extract import extract_detail, extract_search, next_search_url
from wildwatch import config
from wildwatch.sites import Site

FIXTURES = config.PROJECT_ROOT / "tests" / "fixtures" / "sites"


class PageMissing(LookupError):
    pass


def page_path(spec: str) -> Path:
    scheme, _, rest = spec.partition(":")
    base = config.load().realdata_dir if scheme == "realdata" else FIXTURES
    path = base / rest
    if not path.exists():
        raise PageMissing(f"{spec}: not found under {base}")
    return path


def response_for(site: Site, check: dict) -> TextResponse:
    """The saved bytes as Scrapy would receive them: the page's own declared encoding, not ours. A saved JSON
    answer comes as JSON; one its saver wrapped in a script (`window.data = {...}`, named by the check's
    `script`) is unwrapped first, as the answer the page received."""
    url = check.get("url") or site.base_url.rstrip("/") + ("/search" if check["kind"] != "detail" else "/item")
    path = page_path(check["page"])
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
    if check.get("script"):
        body = json.dumps(jsondata.from_script(body.decode("utf-8"), check["script"]), ensure_ascii=False).encode()
    if path.suffix == ".json" or check.get("script"):
        return TextResponse(url=url, body=body, request=Request(url), encoding="utf-8",
                            headers={"Content-Type": "application/json; charset=utf-8"})
    return HtmlResponse(url=url, body=body, request=Request(url))


def run_check(site: Site, check: dict) -> list[str]:
    """Problems found (empty when the page reads as the check expects)."""
    response = response_for(site, check)
    problems = []
    if check["kind"] == "detail":
        fields = extract_detail(site, response)
        if fields.get("_problem"):
            problems.append(fields["_problem"])
        problems += [f"no {f}" for f in check.get("fields", []) if not fields.get(f)]
        problems += _expected(fields, check.get("expect") or {}, "item")
        return problems
    page = extract_search(site, response)
    if page.problem:
        problems.append(page.problem)
    if check["kind"] == "search_empty":
        if page.results or not page.empty_ok:
            problems.append(f"expected an empty result page, got {len(page.results)} results, empty_ok={page.empty_ok}")
        return problems
    if check.get("first"):
        problems += _expected(page.results[0] if page.results else {}, check["first"], "first result")
    if "results" in check and len(page.results) != check["results"]:
        problems.append(f"{len(page.results)} results, expected {check['results']}")
    for field in check.get("fields", []):
        missing = sum(1 for r in page.results if not r.get(field))
        if missing:
            problems.append(f"{missing} of {len(page.results)} results without {field}")
    if "next_page" in check:
        following = next_search_url(site, response, page, 1)
        want = check["next_page"]
        if isinstance(want, str) and following != want:
            problems.append(f"next page {following!r}, expected {want!r}")
        elif not isinstance(want, str) and bool(following) != want:
            problems.append(f"next page {'missing' if want else 'unexpected'}: {following}")
    sample = check.get("encoding_sample")
    if sample and not any(sample in (r.get("title") or "") for r in page.results):
        problems.append(f"no title contains {sample!r}: wrong encoding?")
    return problems


def coverage(site: Site, check: dict) -> dict:
    """Results found and, per field, the share of results (or of the detail page) that have it."""
    response = response_for(site, check)
    if check["kind"] == "detail":
        fields = extract_detail(site, response)
        declared = set(site.detail.fields) | set(site.detail.json.fields if site.detail.json else {}) if site.detail else set()
        names = sorted(declared | set(check.get("fields", [])))
        return {"results": 1, "fields": {n: 1.0 if fields.get(n) else 0.0 for n in names}}
    page = extract_search(site, response)
    names = sorted(set(site.search.fields) | set(site.search.json.fields if site.search.json else {}))
    n = len(page.results)
    return {"results": n, "next_page": bool(page.next_url), "empty_ok": page.empty_ok,
            "fields": {f: (sum(1 for r in page.results if r.get(f)) / n if n else 0.0) for f in names}}


def _expected(found: dict, expected: dict, what: str) -> list[str]:
    """Named values a check pins down (a title, a price as the page shows it, the first image)."""
    problems = []
    for key, want in expected.items():
        got = found.get(key)
        if isinstance(got, list) and not isinstance(want, list):
            got = got[0] if got else None
        if got != want:
            problems.append(f"{what} {key}: {got!r}, expected {want!r}")
    return problems
