"""Structured-data fallback, measured on real product pages (the Zyte product-extraction benchmark)."""
import gzip
import json
from decimal import Decimal, InvalidOperation

import pytest

from spiders.structured import structured_fields, structured_price
from wildwatch import config


def test_json_ld_and_opengraph_give_fields():
    html = """<html><head><meta property="og:title" content="OG title">
    <meta property="og:image" content="http://x/og.jpg">
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "product",
      "name": "Carved bangle", "image": [{"url": "http://x/1.jpg"}],
      "offers": {"@type": "Offer", "price": "1299.00", "priceCurrency": "CNY", "seller": {"name": "古玩张"}}}]}
    </script></head><body></body></html>"""
    fields = structured_fields(html, "http://x/item")
    assert fields["title"] == "Carved bangle" and fields["seller"] == "古玩张"
    assert fields["price"] == "1299.00" and fields["currency"] == "CNY" and fields["images"] == ["http://x/1.jpg"]
    assert structured_price(html, "http://x/item").amount == Decimal("1299.00")


@pytest.mark.parametrize("html", ["", "<html>", "<script type='application/ld+json'>{broken", "\x00\xff" * 100])
def test_broken_structured_data_gives_nothing_and_no_error(html):
    assert structured_fields(html, "http://x/") == {}
    assert structured_price(html, "http://x/") is None


def _benchmark():
    folder = config.load().realdata_dir / "zyte-product-benchmark" / "dataset"
    if not (folder / "ground-truth.json").exists():
        pytest.skip(f"the Zyte product benchmark is not here ({folder}); set WILDWATCH_REALDATA")
    return folder


def test_declared_prices_on_real_product_pages_match_the_ground_truth():
    folder = _benchmark()
    truth = json.loads((folder / "ground-truth.json").read_text())
    found = correct = 0
    priced = {k: v for k, v in truth.items() if v.get("price")}
    for key, expected in priced.items():
        html = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
        price = structured_price(html, expected["url"])
        if price is None:
            continue
        found += 1
        try:
            want = Decimal(str(expected["price"][0]).replace(",", ""))
        except InvalidOperation:
            continue
        correct += price.amount == want
    precision = correct / found
    recall = correct / len(priced)
    print(f"structured prices: {found} found of {len(priced)}, {correct} correct; "
          f"precision {precision:.2f}, recall {recall:.2f}")
    # extruct's own run in the benchmark: price recall 0.57; we must not be worse, and be right when we answer
    assert recall >= 0.6 and precision >= 0.88


# Benchmark pages from marketplaces that have a site file: the host names that belong to each.
SITE_HOSTS = {"ebay": "ebay", "craigslist": "craigslist", "olx": "olx", "leboncoin": "leboncoin",
              "mercadolibre": "mercadolibre", "vinted": "vinted", "poshmark": "poshmark", "rubylane": "ruby_lane",
              "taobao": "taobao"}


def test_site_files_read_the_benchmark_prices_of_their_own_pages():
    """Through the crawler's own path (site selectors, structured fallback, price parsing), at least 95% of the
    benchmark's priced pages from supported marketplaces give the ground-truth amount."""
    from urllib.parse import urlsplit

    from scrapy.http import HtmlResponse, Request

    from pipelines.normalize import parse_price
    from spiders.extract import extract_detail
    from wildwatch import sites

    folder = _benchmark()
    truth = json.loads((folder / "ground-truth.json").read_text())
    known = {s.name: s for s in sites.load_all()}
    pages = matched = 0
    misses = []
    for key, expected in truth.items():
        host = urlsplit(expected["url"]).hostname or ""
        name = next((v for k, v in SITE_HOSTS.items() if k in host), None)
        if name is None or not expected.get("price"):
            continue
        site = known[name]
        body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        fields = extract_detail(site, HtmlResponse(url=expected["url"], body=body, request=Request(expected["url"])))
        amount, _ = parse_price(fields.get("price"), site.currency)
        want, _ = parse_price(str(expected["price"][0]), None)
        pages += 1
        matched += amount == want
        if amount != want:
            misses.append((expected["url"], fields.get("price"), expected["price"]))
    print(f"supported-site benchmark pages: {matched} of {pages} prices match")
    assert pages >= 10 and matched / pages >= 0.95, misses
