"""Clean a scraped listing: whitespace, price and currency, posted date; drop items without URL or title."""
from __future__ import annotations

from pipelines import CrawlerPipeline

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from price_parser import Price
from scrapy.exceptions import DropItem

CURRENCY_SYMBOLS = {"¥": "CNY", "￥": "CNY", "元": "CNY", "₫": "VND", "đ": "VND", "FCFA": "XAF", "CFA": "XAF",
                    "TSh": "TZS", "TSH": "TZS", "€": "EUR", "$": "USD", "US$": "USD", "£": "GBP"}
MAX_TEXT = 20_000  # a description longer than this is someone's hostile paste, not a listing


def clean_text(value, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).replace("\x00", "").split())
    return text[:limit] or None


def parse_price(text: str | None, default_currency: str | None) -> tuple[Decimal | None, str | None]:
    if not text:
        return None, None
    price = Price.fromstring(text)
    amount = price.amount
    currency = CURRENCY_SYMBOLS.get((price.currency or "").strip(), None)
    if currency is None and price.currency and re.fullmatch(r"[A-Z]{3}", price.currency.strip()):
        currency = price.currency.strip()
    if amount is not None:
        try:
            amount = Decimal(amount).quantize(Decimal("0.01"))
        except InvalidOperation:
            amount = None
        if amount is not None and amount >= Decimal("1e16"):
            amount = None
    return amount, currency or default_currency


DAY_FIRST = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})\b")


def parse_date(text: str | None) -> dt.date | None:
    """ISO dates, and day-first ones (15.7.2023, 31/10/2023) as French and Vietnamese classifieds write them."""
    if not text:
        return None
    text = str(text).strip()
    if text.isdigit() and len(text) in (10, 13):  # Unix time, in seconds or (APIs) milliseconds
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    m = DAY_FIRST.match(text)
    try:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else None
    except ValueError:
        return None


def seller_account(url: str | None, site) -> str | None:
    """The seller's account on this site, from the link to their profile: its path (and kept parameters).
    A display name is not an account: two sellers may both be called "Juma"."""
    if not url or not url.strip():
        return None
    canonical = site.canonical_url(url.strip())
    parts = urlsplit(canonical)
    if (parts.hostname or "").removeprefix("www.") != site.domain.removeprefix("www.") or parts.path in ("", "/"):
        return None  # a link off the site is a contact (an outside shop), not an account here
    return (parts.path + ("?" + parts.query if parts.query else ""))[:300]


def account_id(value) -> str | None:
    """The seller's account from the id an API gives (Chợ Tốt's account_id, Xianyu's seller id) when no
    profile link is shown: an id, unlike a display name, is one account."""
    text = clean_text(value, 200)
    return f"id:{text}" if text else None


class NormalizePipeline(CrawlerPipeline):
    def process_item(self, item):
        spider = self.crawler.spider
        if not item.get("url"):
            raise DropItem("listing without URL")
        for key in ("title", "description", "seller", "location", "search_query"):
            item[key] = clean_text(item.get(key), 500 if key != "description" else MAX_TEXT)
        # A forum author's later posts in the thread: lines kept (each is a post), length bounded.
        replies = item.get("replies")
        item["replies"] = "\n".join(filter(None, (clean_text(r, 2000) for r in str(replies).split("\n"))))[:MAX_TEXT] \
            if replies else None
        if not item["title"]:
            raise DropItem(f"listing without title: {item['url']}")
        item["price"], item["currency"] = parse_price(item.get("price"),
                                                      item.pop("currency_hint", None) or spider.site.currency)
        item["posted"] = parse_date(item.get("posted"))
        item["seller_account"] = (seller_account(item.pop("seller_url", None), spider.site)
                                  or account_id(item.pop("seller_id", None)))
        item.pop("seller_id", None)
        item["image_urls"] = list(dict.fromkeys(item.get("image_urls") or []))[:20]
        for name in ("title", "price", "seller", "location"):  # field coverage, for crawl health
            if item.get(name):
                self.crawler.stats.inc_value(f"wildwatch/field/{name}")
        return item
