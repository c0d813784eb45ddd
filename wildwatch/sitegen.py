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

SITE = """\
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
"""
HEAD = """\
# {title}: written by `wildwatch sites new`. Fill in the selectors, then run `wildwatch sites check {name}`.
# Keep it disabled until the site's robots.txt and terms are checked.
""" + SITE + """\
  results: "{results}"          # one node per real result: no ads, placeholders or "related" blocks
  link: "a::attr(href)"
  next_page: "a[rel=next]::attr(href)"
  no_results: ".no-results"
  fields:
    title: "a::text"
    price: ".price::text"
"""
HEAD_JSON = """\
# {title}: written by `wildwatch sites new` from a JSON answer. Check the paths (JMESPath), the search address
# and the listing address, then run `wildwatch sites check {name}`. See "JSON sites" in sites/README.md.
# Keep it disabled until the site's robots.txt and terms are checked.
""" + SITE + """\
  json:
{script}    items: {items}
    link: {link}
    fields:
{fields}"""
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


MIN_JSON_SCRIPT = 2000  # characters: a smaller script is settings, not the page's data
TITLE_KEYS = ("title", "subject", "raw_title", "name", "headline")
LINK_KEYS = ("url", "link", "href", "detail_url", "item_url", "permalink")
ID_KEYS = ("list_id", "item_id", "itemId", "id", "guid", "ad_id")
PRICE_KEYS = ("price_string", "view_price", "price_view", "price_title", "price", "soldPrice")


def find_json(text: str):
    """(data, script name or None) when the saved page is a JSON answer or carries a large JSON script."""
    from spiders import jsondata

    if jsondata.looks_like_json(text):
        try:
            return jsondata.parse_body(text), None
        except jsondata.JsonUnreadable:
            return None, None
    best = (0, None, None)
    scripts = [(m.group(1), m.group(2)) for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S | re.I)]
    if not scripts and "<html" not in text[:2000].lower():
        scripts = [("", text)]  # a saved script file (`window.data = {...}`)
    for attrs, body in scripts:
        if len(body) < MIN_JSON_SCRIPT:
            continue
        ident = re.search(r"\bid=[\"']([\w$-]+)[\"']", attrs)
        names = [ident.group(1)] if ident else []
        names += re.findall(r"((?:window\.)?[A-Za-z_$][\w$]*)\s*=\s*[{\[]", body)[:3]
        for name in names:
            try:
                data = jsondata.from_script(text, name)
            except jsondata.JsonUnreadable:
                continue
            if len(body) > best[0]:
                best = (len(body), data, name)
            break
    return best[1], best[2]


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name.replace('"', '\\"') + '"'


def _lists_of_objects(node, path=()):
    """(path, list) for every list of objects in the JSON, depth-first (bounded)."""
    stack = [(node, path)]
    seen = 0
    while stack and seen < 200_000:
        value, where = stack.pop()
        seen += 1
        if isinstance(value, dict):
            stack.extend((v, (*where, _key(str(k)))) for k, v in value.items())
        elif isinstance(value, list):
            objects = [v for v in value if isinstance(v, dict)]
            if objects and len(objects) >= len(value) / 2:
                yield where, objects
            if value and isinstance(value[0], (dict, list)):
                stack.append((value[0], (*where, "[0]")))


def _leaves(item, prefix=(), depth=0) -> dict[tuple, object]:
    """Scalar values of an item by path, up to five objects deep (Xianyu nests its title in
    data.item.main.exContent)."""
    out = {}
    if isinstance(item, dict) and depth <= 5:
        for k, v in item.items():
            if isinstance(v, (dict,)):
                out.update(_leaves(v, (*prefix, str(k)), depth + 1))
            elif isinstance(v, (str, int, float)) and not isinstance(v, bool) and v != "":
                out[(*prefix, str(k))] = v
    return out


def _scalar_key(items: list[dict], keys, distinct: bool = False) -> str | None:
    """The first of `keys` (by name, at any depth) that most items have a text or number for: its path.
    `distinct`: an address or id differs from item to item (a template's constant is not one)."""
    leaves = [_leaves(x) for x in items[:50]]
    for key in keys:
        paths = Counter(p for found in leaves for p in found if p[-1] == key)
        usable = []
        for path, n in paths.items():
            values = [found[path] for found in leaves if path in found]
            varies = not distinct or len(leaves) < 2 or len(set(map(str, values))) > len(values) / 2
            if n >= len(leaves) / 2 and varies:
                usable.append((len(path), -n, path))
        if usable:
            return ".".join(_key(part) for part in min(usable)[2])
    return None


def guess_json_paths(data) -> dict[str, str]:
    """The list of objects that looks most like results is the results; title, price and link are guessed
    from its items' keys (at any depth)."""
    def score(pair):  # results look like listings: a title and an address or id, and there are many
        items = pair[1]
        looks = bool(_scalar_key(items, TITLE_KEYS)) + bool(_scalar_key(items, LINK_KEYS + ID_KEYS, distinct=True))
        looks += any("price" in p[-1].lower() for x in items[:5] for p in _leaves(x))
        return looks, len(items)

    found = max(_lists_of_objects(data), key=score, default=None)
    if found is None:
        raise SiteGenError("no list of objects in the JSON: write `json.items` by hand")
    path, items = found
    items_path = ".".join(path).replace(".[0]", "[0]") or "@"
    names = sorted({p[-1] for x in items[:50] for p in _leaves(x)})
    prices = sorted((n for n in names if "price" in n.lower()),
                    key=lambda n: (n not in PRICE_KEYS, PRICE_KEYS.index(n) if n in PRICE_KEYS else 0, n))
    title = _scalar_key(items, TITLE_KEYS)
    out = {"items": items_path}
    if title:
        out["title"] = title
    price = _scalar_key(items, prices) or _scalar_key(items, ["view"])
    if price:
        out["price"] = price
    link = _scalar_key(items, LINK_KEYS, distinct=True)
    ident = _scalar_key(items, ID_KEYS, distinct=True)
    out["link"] = link if link else (f"{{base_url}}/{{{ident}}}" if ident else "url")
    return out


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
    title = re.sub(r"\s+", " ", Selector(text=html, type="html").css("title::text").get() or name).strip()[:60] or name
    title = re.sub(r"[^\w .,()/-]", " ", title).strip() or name
    data, script = find_json(html) if kind == "search" else (None, None)
    if data is not None:
        try:
            text = json_site(name, title, base_url, country, language, currency, data, script,
                             _page_spec(name, source, realdata))
            return _write(name, source, realdata, settings, site_file, text)
        except SiteGenError:
            if script is None:
                raise  # a JSON answer: there is no HTML to fall back on
    if kind == "search":
        results, detail, fields = guess_results_selector(html), "", "[title, price]"
    else:
        guessed = guess_detail_fields(html)
        results = "li.result"  # the search page is still to be saved and written
        detail = DETAIL.format(fields="".join(f"    {k}: {_yaml_string(v)}\n" for k, v in guessed.items()))
        fields = "[" + ", ".join(guessed) + "]"
    text = (HEAD.format(name=name, title=title, country=country, language=language, currency=currency,
                        base_url=base_url, results=results)
            + detail + CHECKS.format(page=_page_spec(name, source, realdata, kind), kind=kind,
                                     extra=f", fields: {fields}"))
    return _write(name, source, realdata, settings, site_file, text, kind)


def _fixture(name: str, source: Path, kind: str = "search") -> Path:
    suffix = next((s for s in (".html.gz", ".json", ".html") if source.name.endswith(s)), ".html")
    return config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / name / f"{kind}{suffix}"


def _page_spec(name: str, source: Path, realdata: str | None, kind: str = "search") -> str:
    return f"realdata:{realdata}" if realdata else f"fixtures:{name}/{_fixture(name, source, kind).name}"


def _write(name, source, realdata, settings, site_file: Path, text: str, kind: str = "search") -> list[Path]:
    written = []
    if not realdata:
        fixture = _fixture(name, source, kind)
        fixture.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, fixture)
        written.append(fixture)
    site_file.write_text(text, encoding="utf-8")
    return [site_file, *written]


def json_site(name, title, base_url, country, language, currency, data, script, page_spec) -> str:
    paths = guess_json_paths(data)
    if "title" not in paths:
        raise SiteGenError(f"the JSON's results ({paths['items']}) have no title-like key ({', '.join(TITLE_KEYS)}): "
                           "write `json.fields.title` by hand")
    fields = "".join(f"      {k}: {_yaml_string(paths[k])}\n" for k in ("title", "price") if paths.get(k))
    head = HEAD_JSON.format(name=name, title=title, country=country, language=language, currency=currency,
                            base_url=base_url, script=f"    script: {_yaml_string(script)}\n" if script else "",
                            items=_yaml_string(paths["items"]), link=_yaml_string(paths["link"]), fields=fields)
    names = "[" + ", ".join(k for k in ("title", "price") if paths.get(k)) + "]"
    return head + CHECKS.format(page=page_spec, kind="search", extra=f", fields: {names}")
