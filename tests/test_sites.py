from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from spiders.extract import extract_detail, extract_search
from wildwatch import sites
from wildwatch.demo import generator

FIXTURES = Path(__file__).parent / "fixtures" / "sites"
ALL = sorted(sites.site_files())
DEMO = [name for name in ALL if name.startswith("demo_")]  # the demo sites keep their pages in tests/fixtures


def saved(site, kind: str) -> Path:
    """The demo site's saved page of this kind: an HTML page, or a JSON answer for a JSON site."""
    for suffix in (".html", ".json"):
        if (FIXTURES / site.name / f"{kind}{suffix}").exists():
            return FIXTURES / site.name / f"{kind}{suffix}"
    raise AssertionError(f"{site.name} lacks tests/fixtures/sites/{site.name}/{kind}.html (or .json)")


def response(site, kind: str, path: str) -> TextResponse:
    url = site.base_url + path
    page = saved(site, kind)
    if page.suffix == ".json":
        return TextResponse(url=url, body=page.read_bytes(), encoding="utf-8", request=Request(url),
                            headers={"Content-Type": "application/json"})
    return HtmlResponse(url=url, body=page.read_bytes(), encoding="utf-8", request=Request(url))


def test_every_site_file_loads_and_is_named_after_its_file():
    assert ALL, "no site files"
    for name in ALL:
        assert sites.load(name).name == name


def test_the_switched_on_sites_are_the_enabled_ones_and_a_broken_file_stays_in_to_fail_loudly(tmp_path):
    assert sites.switched_on() == [s.name for s in sites.load_all() if s.enabled]
    (tmp_path / "on.yaml").write_text("name: on\nenabled: true\n")
    (tmp_path / "unsaid.yaml").write_text("name: unsaid\n")
    (tmp_path / "off.yaml").write_text("name: off\nenabled: false\n")
    (tmp_path / "broken.yaml").write_text("enabled: false\n  search: [\n")  # its crawl task will say what is wrong
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00enabled: false")
    (tmp_path / "odd.yaml").write_text("enabled: 'no'\n")  # a string, not false: on, as sites.load reads it
    assert sites.switched_on(tmp_path) == ["binary", "broken", "odd", "on", "unsaid"]


def test_every_demo_site_has_saved_pages():
    for name in DEMO:
        for kind in ("search", "search_empty", "detail"):
            assert saved(sites.load(name), kind).exists()


@pytest.mark.parametrize("name", DEMO)
def test_search_page_gives_every_result_once_and_no_ads(name):
    site = sites.load(name)
    page = extract_search(site, response(site, "search", "/search?q=x"))
    assert page.results and not page.layout_broken
    urls = [r["url"] for r in page.results]
    assert len(urls) == len(set(urls)) <= generator.PAGE_SIZE
    assert all("ref=" not in u and "q=" not in u for u in urls)  # tracking parameters stripped
    assert all(r.get("title") and (r.get("price") or site.kind == "forum") for r in page.results)
    demo = generator.load_ground_truth()[name]
    titles = {x.title for x in demo.listings}
    assert all(r["title"] in titles for r in page.results)
    assert page.next_url is None or "page=2" in page.next_url


@pytest.mark.parametrize("name", DEMO)
def test_an_empty_search_is_recognised_as_empty_not_broken(name):
    site = sites.load(name)
    page = extract_search(site, response(site, "search_empty", "/search?q=zzzz"))
    assert page.results == [] and page.empty_ok and not page.layout_broken


@pytest.mark.parametrize("name", DEMO)
def test_detail_page_gives_every_field(name):
    site = sites.load(name)
    fields = extract_detail(site, response(site, "detail", "/item/x"))
    # a forum thread has no price or place; its author's replies instead
    wanted = ("title", "seller", "posted", "description") + (("replies",) if site.kind == "forum" else ("price", "location"))
    for key in wanted:
        assert fields[key], key
    assert fields["images"] and all(u.startswith(site.base_url) for u in fields["images"])


def test_a_changed_layout_is_reported_as_broken():
    site = sites.load("demo_vn")
    html = (FIXTURES / "demo_vn" / "search.html").read_text().replace('class="sp"', 'class="product"')
    page = extract_search(site, HtmlResponse(url=site.base_url + "/s", body=html.encode(), encoding="utf-8"))
    assert page.layout_broken


def test_canonical_url_drops_tracking_and_fragment():
    site = sites.load("demo_vn")
    assert site.canonical_url("HTTP://Example.org/item/1?ref=search&b=2&a=1#top") == "http://example.org/item/1?a=1&b=2"


@pytest.mark.parametrize("patch, message", [
    ({"name": "other"}, "must equal the file name"),
    ({"country": "Viet Nam"}, "ISO 3166"),
    ({"languages": ["xx"]}, "unknown languages"),
    ({"search": {"url": "http://x/search", "results": "li", "link": "a::attr(href)"}}, "placeholder"),
])
def test_a_bad_site_file_is_rejected(patch, message):
    import yaml

    doc = yaml.safe_load((sites.site_files()["demo_vn"]).read_text())
    doc.update(patch)
    with pytest.raises(sites.SiteError, match=message):
        sites.parse(doc, "demo_vn")


def test_fields_the_selectors_miss_come_from_structured_data():
    site = sites.load("demo_vn")
    html = (FIXTURES / "demo_vn" / "detail.html").read_text()
    html = html.replace('class="seller"', 'class="vendeur"').replace(
        "</head>", '<script type="application/ld+json">{"@type": "Product", "name": "x", '
                   '"offers": {"price": "5", "priceCurrency": "VND", "seller": {"name": "Cửa hàng A"}}}</script></head>')
    fields = extract_detail(site, HtmlResponse(url=site.base_url + "/item/1", body=html.encode(), encoding="utf-8"))
    assert fields["seller"] == "Cửa hàng A" and fields["_structured"] == ["seller"]
    assert fields["title"] != "x"  # what the selectors found is kept
