"""Listing fields from the structured data a page carries (JSON-LD, microdata, OpenGraph), for when a
site's selectors find nothing: after a redesign, or on a site not yet described field by field."""
from __future__ import annotations

import logging

from price_parser import Price

log = logging.getLogger(__name__)
PRODUCT_TYPES = {"product", "individualproduct", "productmodel", "offer", "aggregateoffer", "vehicle", "car"}


def _types(item: dict) -> set[str]:
    value = item.get("@type") or []
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _walk(node):
    """Every dict inside a JSON-LD/microdata tree (@graph, nested offers, lists)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _first(value):
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "")), None)
    return value


def _text(value) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("url")
    return str(value).strip() if value not in (None, "") else None


def _images(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, dict):
            v = v.get("url") or v.get("contentUrl")
        if isinstance(v, str) and v.strip():
            out.append(v.strip())
    return out


def _offer_price(product: dict) -> tuple[str | None, str | None, str | None]:
    """(price text, currency, seller) from the product's offers, or the product itself."""
    offers = [o for o in _walk(product.get("offers")) if isinstance(o, dict)] or [product]
    for offer in offers:
        price = _first(offer.get("price") or offer.get("lowPrice"))
        spec = _first(offer.get("priceSpecification"))
        if price in (None, "") and isinstance(spec, dict):
            price = _first(spec.get("price"))
        if price not in (None, ""):
            currency = _text(offer.get("priceCurrency") or (spec or {}).get("priceCurrency")
                             if isinstance(spec, dict) else offer.get("priceCurrency"))
            return str(price), currency, _text(offer.get("seller"))
    return None, None, None


def structured_fields(html: str, url: str) -> dict:
    """title, price (text), currency, seller, images, description: whatever the page declares."""
    import extruct  # here, not at the top: most crawls never need it, and it costs ~0.15 s to import

    try:
        data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata", "opengraph"],
                               uniform=True, errors="ignore")
    except Exception as exc:  # noqa: BLE001 - hostile markup must not stop the crawl; we fall back
        log.warning("structured data unreadable on %s: %s", url, exc)
        return {}
    fields: dict = {}
    products = [item for syntax in ("json-ld", "microdata") for item in _walk(data.get(syntax, []))
                if _types(item) & PRODUCT_TYPES]
    for product in products:
        price, currency, seller = _offer_price(product)
        candidate = {"title": _text(product.get("name")), "price": price, "currency": currency,
                     "seller": seller, "images": _images(product.get("image")),
                     "description": _text(product.get("description"))}
        for key, value in candidate.items():
            if value and not fields.get(key):
                fields[key] = value
    for og in data.get("opengraph", []):
        pairs = {k: v for k, v in og.items() if isinstance(v, str)}
        fields.setdefault("title", pairs.get("og:title"))
        amount = pairs.get("product:price:amount") or pairs.get("og:price:amount")
        if amount and not fields.get("price"):
            fields["price"] = amount
            fields["currency"] = pairs.get("product:price:currency") or pairs.get("og:price:currency")
        if pairs.get("og:image") and not fields.get("images"):
            fields["images"] = [pairs["og:image"]]
    return {k: v for k, v in fields.items() if v}


def structured_price(html: str, url: str):
    """The declared price as a price_parser.Price (amount Decimal, currency), or None."""
    fields = structured_fields(html, url)
    if not fields.get("price"):
        return None
    price = Price.fromstring(str(fields["price"]), currency_hint=fields.get("currency"))
    return price if price.amount is not None else None
