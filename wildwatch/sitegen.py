"""`wildwatch sites new NAME --page saved.html`: a site file, its saved page and its check in one go, the way
city-scrapers' genspider starts a new scraper. The new file fails its check until its selectors are written.

It starts from a search page (`--kind search`, the result list guessed from the element class that wraps the
most links outside headers, footers and navigation) or from a listing's own page (`--kind detail`, a
`detail:` section guessed from the title, price, seller, description and photo markup). When it cannot guess,
it says so and writes nothing. `--realdata` points the check at a page under ../shared/realdata instead of
copying it into the repository (those pages must stay where their licence allows)."""
from __future__ import annotations

import gzip
import re
import shutil
from collections import Counter
from pathlib import Path

from parsel import Selector

from wildwatch import config
from wildwatch.sites import NAME

MIN_RESULTS = 3  # fewer repeated links than this is not a result list
CHROME = "ancestor-or-self::*[self::footer or self::nav or self::header or self::aside]"
CLASS = re.compile(r"^[A-Za-z_][-\w]*$")  # a class name a CSS selector can carry as it is

HEAD = """\
# {title}: written by `wildwatch sites new`. Fill in the selectors, then run `wildwatch sites check {name}`.
# Keep it disabled until the site's robots.txt and terms are checked.
name: {name}
title: {title}
country: {country}
languages: [{language}]
currency: {currency}
base_url: {base_url}
enabled: false
politeness: {{download_delay: 5, concurrency: 1}}
search:
  url: "{{base_url}}/search?q={{query}}"
  results: "{results}"          # one node per real result: no ads, placeholders or "related" blocks
  link: "a::attr(href)"
  next_page: "a[rel=next]::attr(href)"
  no_results: ".no-results"
  fields:
    title: "a::text"
    price: ".price::text"
"""
DETAIL = """\
detail:
  fields:
{fields}"""
CHECKS = """\
checks:
  - {{page: "{page}", kind: {kind}{extra}}}
"""


class SiteGenError(ValueError):
    """sites new cannot go on; the message says why and what to do. Nothing has been written."""


def read_page(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SiteGenError(f"{path}: not a readable .gz file ({exc})") from None
    text = data.decode("utf-8", "replace")
    if not text.strip():
        raise SiteGenError(f"{path}: the page is empty")
    return text


def _first_class(node) -> str | None:
    for cls in (node.attrib.get("class") or "").split():
        if CLASS.match(cls):
            return cls
    return None


def guess_results_selector(html: str) -> str:
    """The element class that most often wraps a link outside page chrome: a starting point, to be checked by
    hand. SiteGenError when no class wraps MIN_RESULTS links (an item page, a page of scripts)."""
    sel = Selector(html)
    counts: Counter = Counter()
    for a in sel.xpath("//a[@href]"):
        if a.xpath(CHROME):
            continue
        for parent in reversed(a.xpath("ancestor::*[@class]")):  # nearest first
            tag = parent.xpath("name()").get()
            first = _first_class(parent)
            if first and tag not in ("html", "body", "main"):
                counts[f"{tag}.{first}"] += 1
                break
    best = counts.most_common(1)
    if not best or best[0][1] < MIN_RESULTS:
        raise SiteGenError("could not guess the result list: no element class wraps "
                           f"{MIN_RESULTS} or more links outside headers, footers and navigation. Is this a "
                           "listing's own page? Then use --kind detail; else write `results:` by hand.")
    return best[0][0]


def _selector_for(sel: Selector, candidates: list[tuple[str, str]]) -> str | None:
    for probe, selector in candidates:
        if sel.css(probe):
            return selector
    return None


def guess_detail_fields(html: str) -> dict[str, str]:
    """Selectors for a listing's own page, from common markup (microdata, Open Graph, class names)."""
    sel = Selector(html)
    fields = {
        "title": _selector_for(sel, [("h1", "h1 ::text"), ("[itemprop=name]", "[itemprop=name] ::text"),
                                     ("meta[property='og:title']", "meta[property='og:title']::attr(content)")]),
        "price": _selector_for(sel, [("[itemprop=price]", "[itemprop=price]::attr(content)"),
                                     ("[class*=price]", "[class*=price] ::text")]),
        "seller": _selector_for(sel, [("[itemprop=seller]", "[itemprop=seller] ::text"),
                                      ("[class*=seller]", "[class*=seller] ::text")]),
        "description": _selector_for(sel, [("[itemprop=description]", "[itemprop=description] ::text"),
                                           ("meta[name=description]", "meta[name=description]::attr(content)")]),
        "images": _selector_for(sel, [("img[itemprop=image]", "img[itemprop=image]::attr(src)"),
                                      ("meta[property='og:image']", "meta[property='og:image']::attr(content)")]),
    }
    found = {k: v for k, v in fields.items() if v}
    if "title" not in found:
        raise SiteGenError("could not guess a detail page's title (no h1, itemprop=name or og:title): "
                           "is this a listing's page? Write the `detail:` selectors by hand.")
    return found


def _yaml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_site(name: str, page: Path, base_url: str, country: str, language: str, currency: str,
             kind: str = "search", realdata: str | None = None) -> list[Path]:
    """Write sites/NAME.yaml (and, unless the page is a realdata reference, its saved page under
    tests/fixtures/sites/NAME/). Everything is worked out before the first file is written."""
    if not NAME.match(name):
        raise SiteGenError(f"site name {name!r} must be lower_snake_case")
    if kind not in ("search", "detail"):
        raise SiteGenError("--kind is search or detail")
    settings = config.load()
    site_file = settings.sites_dir / f"{name}.yaml"
    if site_file.exists():
        raise SiteGenError(f"{site_file} already exists")
    if realdata:
        source = settings.realdata_dir / realdata
        if not source.is_file():
            raise SiteGenError(f"{realdata}: not found under {settings.realdata_dir} (set WILDWATCH_REALDATA)")
    else:
        if page is None:
            raise SiteGenError("give the saved page: --page FILE, or --realdata PATH for a page under shared/realdata")
        source = page
        if not source.is_file():
            raise SiteGenError(f"{source}: no such file")
    html = read_page(source)
    title = re.sub(r"\s+", " ", Selector(html).css("title::text").get() or name).strip()[:60] or name
    title = re.sub(r"[^\w .,()/-]", " ", title).strip() or name
    if kind == "search":
        results, detail, fields = guess_results_selector(html), "", "[title, price]"
    else:
        guessed = guess_detail_fields(html)
        results = "li.result"  # the search page is still to be saved and written
        detail = DETAIL.format(fields="".join(f"    {k}: {_yaml_string(v)}\n" for k, v in guessed.items()))
        fields = "[" + ", ".join(guessed) + "]"
    suffix = ".html.gz" if source.name.endswith(".gz") else ".html"
    fixture = config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / name / f"{kind}{suffix}"
    page_spec = f"realdata:{realdata}" if realdata else f"fixtures:{name}/{fixture.name}"
    text = (HEAD.format(name=name, title=title, country=country, language=language, currency=currency,
                        base_url=base_url, results=results)
            + detail + CHECKS.format(page=page_spec, kind=kind, extra=f", fields: {fields}"))
    written = []
    if not realdata:
        fixture.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, fixture)
        written.append(fixture)
    site_file.write_text(text, encoding="utf-8")
    return [site_file, *written]
