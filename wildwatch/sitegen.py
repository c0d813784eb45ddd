"""`wildwatch sites new NAME --page saved.html`: a site file, its saved page and its check in one go, the way
city-scrapers' genspider starts a new scraper. The new file fails its check until its selectors are written."""
from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from parsel import Selector

from wildwatch import config
from wildwatch.sites import NAME

TEMPLATE = """\
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
checks:
  - {{page: "fixtures:{name}/search.html", kind: search, fields: [title, price]}}
"""


def guess_results_selector(html: str) -> str:
    """The element class that most often wraps a link: a starting point, to be checked by hand."""
    sel = Selector(html)
    counts = Counter()
    for a in sel.xpath("//a[@href]"):
        parent = a.xpath("ancestor::*[@class][1]")
        if parent:
            tag = parent.xpath("name()").get()
            first_class = (parent.attrib.get("class") or "").split()[0]
            if first_class:
                counts[f"{tag}.{first_class}"] += 1
    return counts.most_common(1)[0][0] if counts else "li"


def new_site(name: str, page: Path, base_url: str, country: str, language: str, currency: str) -> list[Path]:
    if not NAME.match(name):
        raise ValueError(f"site name {name!r} must be lower_snake_case")
    settings = config.load()
    site_file = settings.sites_dir / f"{name}.yaml"
    if site_file.exists():
        raise ValueError(f"{site_file} already exists")
    fixture_dir = config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / name
    fixture_dir.mkdir(parents=True, exist_ok=True)
    fixture = fixture_dir / "search.html"
    shutil.copyfile(page, fixture)
    html = fixture.read_bytes().decode("utf-8", "replace")
    title = re.sub(r"\s+", " ", Selector(html).css("title::text").get() or name).strip()[:60] or name
    site_file.write_text(TEMPLATE.format(name=name, title=title.replace(":", " -"), country=country,
                                         language=language, currency=currency, base_url=base_url,
                                         results=guess_results_selector(html)), encoding="utf-8")
    return [site_file, fixture]
