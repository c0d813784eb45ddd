"""Deterministic demo listings from catalog.yaml, and the search rule the demo marketplaces apply.

The ground truth (demo/ground_truth.json) is this module's output; tests compare crawls against it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import yaml

PAGE_SIZE = 5
VARIANT_SUFFIXES = {
    "zh": ["精品", "特价", "包邮", "现货"],
    "vi": ["giá tốt", "hàng đẹp", "còn ít", "ship COD"],
    "fr": ["prix à débattre", "urgent", "très bon état", "livraison possible"],
    "sw": ["bei poa", "ofa", "haraka", "mpya"],
}
EPOCH = dt.date(2026, 6, 1)
LISTING_KEYS = {"label", "group", "variants", "price", "title", "description", "disguise", "cover", "seller", "account",
                "contacts", "network", "photo", "photo_edits", "reply", "photo_text", "photo_text_style", "escapes_filter"}


@dataclass
class DemoListing:
    id: str
    site: str
    title: str
    description: str
    price: int
    currency: str
    seller: str
    location: str
    posted: str
    label: str
    group: str | None = None
    disguise: bool = False
    cover: bool = False
    images: list[str] = field(default_factory=list)
    # The seller's account (profile path /seller/ACCOUNT): one per listing unless the catalog shares one.
    account: str = ""
    # Ground truth of seller networks: listings planted with the same contact share this name.
    network: str | None = None
    # Ground truth of re-used photos: listings with the same `photo` show copies of one picture, altered by
    # photo_edit (demo/photos.py).
    photo: str | None = None
    photo_edit: str | None = None
    # Forums: the author's later post in the thread (where the contact often is).
    reply: str | None = None
    # A contact painted on the first photo (demo/painted.py), in this style: band or outline.
    photo_text: str | None = None
    photo_text_style: str = "band"
    # An offer in words no keyword list knows: the filter is meant to miss it, the blind audit sample to find it.
    escapes_filter: bool = False

    @property
    def should_queue(self) -> bool:
        return (self.label == "wildlife" and not self.escapes_filter) or self.cover


@dataclass
class DemoSite:
    name: str
    title: str
    country: str
    languages: list[str]
    currency: str
    javascript: bool
    listings: list[DemoListing]
    api: bool = False  # search and items answered in JSON, paged by offset
    forum: bool = False  # threads with posts; paged by offset
    # Listings the platform has taken down: gone from search, their pages say so (takedown follow-up).
    removed: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)  # item pages answering 500
    # Listings posted after the first survey: on the site once `DemoMarketplaces.next_month()` is called, so
    # a second monthly survey finds new offers (catalog `next_month:`).
    later: list[DemoListing] = field(default_factory=list)

    def next_month(self) -> None:
        known = {x.id for x in self.listings}
        self.listings.extend(x for x in self.later if x.id not in known)

    def first_month(self) -> None:
        later = {x.id for x in self.later}
        self.listings[:] = [x for x in self.listings if x.id not in later]

    def get(self, listing_id: str) -> DemoListing | None:
        return next((item for item in self.listings if item.id == listing_id), None)


def load_catalog() -> dict:
    text = resources.files("wildwatch.demo").joinpath("catalog.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def generate(catalog: dict | None = None) -> dict[str, DemoSite]:
    catalog = catalog or load_catalog()
    sites = {}
    for name, spec in catalog["sites"].items():
        rng = random.Random(f"wildwatch-demo-{name}")
        prefix = name.split("_", 1)[1]
        suffixes = VARIANT_SUFFIXES.get(spec["languages"][0], VARIANT_SUFFIXES["sw"])
        entries = _expand(spec["listings"], name, spec, rng, suffixes, days=(0, 150))
        listings = _numbered(entries, name, prefix, spec["currency"], 1)
        # The next month's listings draw from their own seed: adding some never changes this month's.
        later = _expand(spec.get("next_month", []), name, spec, random.Random(f"wildwatch-demo-{name}-next"), suffixes,
                        days=(150, 180))
        later = _numbered(later, name, prefix, spec["currency"], len(listings) + 1)
        first = len(listings) + len(later) + 1
        for key, into, days in (("look_alikes", listings, (0, 150)), ("look_alikes_next_month", later, (150, 180))):
            extra = _expand(spec.get(key, []), name, spec, random.Random(f"wildwatch-demo-{name}-{key}"), suffixes,
                            days=days)
            into += _numbered(extra, name, prefix, spec["currency"], first)
            first += len(extra)
        sites[name] = DemoSite(name=name, title=spec["title"], country=spec["country"],
                               languages=list(spec["languages"]), currency=spec["currency"],
                               javascript=bool(spec.get("javascript")), listings=listings,
                               api=bool(spec.get("api")), forum=bool(spec.get("forum")), later=later)
    return sites


def _numbered(entries: list[dict], name: str, prefix: str, currency: str, first: int) -> list[DemoListing]:
    out = []
    for i, e in enumerate(entries, start=first):
        lid = f"{prefix}{i:04d}"
        e = {**e, "account": e.get("account") or f"u-{lid}"}
        out.append(DemoListing(id=lid, site=name, currency=currency, images=[f"/img/{lid}-1.jpg", f"/img/{lid}-2.jpg"],
                               **e))
    return out


def _expand(spec_entries: list[dict], name: str, spec: dict, rng: random.Random, suffixes: list[str],
            days: tuple[int, int]) -> list[dict]:
    """Each catalog entry `variants` times, with seeded prices, sellers, places and posting days, shuffled."""
    entries = []
    for entry in spec_entries:
        unknown = set(entry) - LISTING_KEYS
        if unknown:  # YAML flow mappings turn an unquoted comma into a new key
            raise ValueError(f"catalog {name}: unknown keys {sorted(unknown)} in {entry}")
        for variant in range(entry.get("variants", 1)):
            title = entry["title"] if variant == 0 else f"{entry['title']} {suffixes[(variant - 1) % len(suffixes)]}"
            low, high = entry["price"]
            contacts = entry.get("contacts") or []
            description = entry["description"]
            if contacts:  # the same contact written another way in each variant
                description = f"{description} {contacts[variant % len(contacts)]}"
            price = int(round(rng.uniform(low, high), -1 if high < 10000 else -3))
            seller = rng.choice(spec["sellers"])
            entries.append(dict(
                title=title, description=description, price=price,
                seller=entry.get("seller", seller), account=entry.get("account", ""), network=entry.get("network"),
                photo=entry.get("photo"), reply=entry.get("reply"), photo_text=entry.get("photo_text"),
                photo_text_style=entry.get("photo_text_style", "band"),
                photo_edit=(entry.get("photo_edits") or [None])[variant % len(entry.get("photo_edits") or [None])],
                location=rng.choice(spec["places"]),
                posted=(EPOCH + dt.timedelta(days=rng.randrange(*days))).isoformat(),
                label=entry["label"], group=entry.get("group"),
                disguise=bool(entry.get("disguise")), cover=bool(entry.get("cover")),
                **({"escapes_filter": True} if entry.get("escapes_filter") else {}),
            ))
    rng.shuffle(entries)
    return entries


# -- the demo marketplaces' search rule --------------------------------------------------------------
def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("đ", "d").split())


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def search(site: DemoSite, query: str) -> list[DemoListing]:
    """Phrase hits first, then (for multi-word Latin queries) any listing sharing a word of 4+ letters,
    as marketplaces pad results with loosely related items."""
    q = fold(query)
    if not q:
        return []
    phrase, loose = [], []
    tokens = [] if _is_cjk(q) else [t for t in q.split() if len(t) >= 4]
    for item in site.listings:
        if item.id in site.removed:
            continue
        text = fold(f"{item.title} {item.description}")
        if q in text:
            phrase.append(item)
        elif len(q.split()) > 1 and any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", text) for t in tokens):
            loose.append(item)
    return phrase + loose


def listing_id_from_url(url: str) -> str:
    """The demo listing a stored URL is: /item/<id> on most demo sites, /<list_id>.htm on the JSON site,
    /p/<thread id> on the forum."""
    from urllib.parse import urlsplit

    last = urlsplit(url).path.rsplit("/", 1)[-1]
    m = re.fullmatch(r"(\d+)\.htm", last)
    if m:
        return f"rao{int(m.group(1)) - 100000:04d}"
    if "/p/" in url and last.isdigit():
        return f"forum{int(last) - 5900000000:04d}"
    return last


def page_count(hits: int, offset_paged: bool = False) -> int:
    """Result pages a crawl reads: offset-paged sites show no last-page marker, so a full last page is followed
    by one more (empty) answer."""
    if offset_paged:
        return hits // PAGE_SIZE + 1
    return max(1, math.ceil(hits / PAGE_SIZE))


def expected_crawl(site: DemoSite, queries: list[str]) -> dict:
    """What a complete crawl of `site` with `queries` must fetch: every results page and one detail page
    per distinct listing."""
    found: dict[str, DemoListing] = {}
    search_pages = 0
    for query in queries:
        hits = search(site, query)
        search_pages += page_count(len(hits), site.api or site.forum)
        for item in hits:
            found.setdefault(item.id, item)
    return {
        "search_pages": search_pages,
        "detail_pages": len(found),
        "pages": search_pages + len(found),
        "listings": len(found),
        "listing_ids": sorted(found),
        "should_queue": sorted(i for i, item in found.items() if item.should_queue),
    }


def networks(listings: list[DemoListing]) -> list[list[str]]:
    """The seller networks among these listings ("site/id"), as planted: listings of one account, and listings
    that share a planted contact (catalog `network:`). Groups of two or more, sorted."""
    groups: dict[str, set[str]] = {}
    parent: dict[str, str] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for x in listings:
        me = f"{x.site}/{x.id}"
        for key in (f"account:{x.site}:{x.account}", f"network:{x.network}" if x.network else None):
            if key:
                parent[find(me)] = find(key)
    for x in listings:
        me = f"{x.site}/{x.id}"
        groups.setdefault(find(me), set()).add(me)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def _as_truth(x: DemoListing) -> dict:
    row = asdict(x)
    if not row["escapes_filter"]:
        del row["escapes_filter"]  # rare: written only where set
    return row


def ground_truth() -> dict:
    sites = generate()
    doc = {name: {"title": s.title, "country": s.country, "languages": s.languages,
                  "javascript": s.javascript, "api": s.api, "forum": s.forum,
                  "listings": [_as_truth(x) for x in s.listings],
                  "next_month": [_as_truth(x) for x in s.later]}
           for name, s in sites.items()}
    return doc


GROUND_TRUTH_FILE = "ground_truth.json"


def write_ground_truth(path: Path) -> None:
    path.write_text(json.dumps(ground_truth(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_ground_truth() -> dict[str, DemoSite]:
    """The committed ground truth (demo/ground_truth.json): every demo listing with its label."""
    doc = json.loads(resources.files("wildwatch.demo").joinpath(GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
    return {name: DemoSite(name=name, title=s["title"], country=s["country"], languages=s["languages"],
                           currency=s["listings"][0]["currency"], javascript=s["javascript"],
                           api=s.get("api", False), forum=s.get("forum", False),
                           listings=[DemoListing(**x) for x in s["listings"]],
                           later=[DemoListing(**x) for x in s.get("next_month", [])])
            for name, s in doc.items()}
