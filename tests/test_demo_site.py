"""The demo marketplaces: deterministic, with a committed ground truth, and shaped like real sites."""
import json
import urllib.request
from dataclasses import asdict

from wildwatch.demo import generator


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode("utf-8")


def test_the_committed_ground_truth_is_what_the_generator_makes():
    committed = generator.load_ground_truth()
    fresh = generator.generate()
    assert {n: [asdict(x) for x in s.listings] for n, s in committed.items()} == \
           {n: [asdict(x) for x in s.listings] for n, s in fresh.items()}, \
        "regenerate with: wildwatch demo-site --write-ground-truth wildwatch/demo/ground_truth.json"


def test_four_marketplaces_in_the_target_languages_with_every_kind_of_listing():
    truth = generator.load_ground_truth()
    assert {s.country for s in truth.values()} == {"CN", "VN", "CM", "TZ"}
    assert {lang for s in truth.values() for lang in s.languages} == {"zh", "vi", "fr", "sw", "en"}
    for site in truth.values():
        labels = {x.label for x in site.listings}
        assert labels == {"wildlife", "negative", "ordinary"}, site.name
    groups = {x.group for s in truth.values() for x in s.listings if x.label == "wildlife"}
    assert len(groups) >= 10
    titles = " ".join(x.title.lower() for s in truth.values() for x in s.listings if x.label == "negative")
    for hard_negative in ("ivory white", "tiger balm", "faux", "fossil", "mammouth", "猛犸"):
        assert hard_negative in titles, hard_negative


def test_robots_txt_search_pagination_and_detail_pages(demo_sites):
    base = demo_sites["demo_vn"]
    status, ctype, robots = get(base + "/robots.txt")
    assert status == 200 and "Disallow: /account/" in robots
    status, ctype, page1 = get(base + "/search?q=ng%C3%A0+voi")
    assert status == 200 and ctype == "text/html; charset=utf-8"
    assert 'rel="next"' in page1 and "page=2" in page1
    status, _, last = get(base + "/search?q=ng%C3%A0+voi&page=2")
    assert 'rel="next"' not in last
    status, _, empty = get(base + "/search?q=zzzz")
    assert "khong-co" in empty
    status, _, detail = get(base + "/item/vn0001")
    assert status == 200 and 'class="seller"' in detail
    assert get(base + "/item/nope")[0] == 404


def test_the_chinese_site_shows_results_only_through_javascript(demo_sites):
    base = demo_sites["demo_cn"]
    _, _, shell = get(base + "/search?q=%E8%B1%A1%E7%89%99")
    assert "item-link" not in shell and "/static/search.js" in shell
    _, ctype, api = get(base + "/api/search?q=%E8%B1%A1%E7%89%99")
    data = json.loads(api)
    assert ctype.startswith("application/json") and data["items"] and data["pages"] >= 1


def test_listing_text_is_escaped_in_the_demo_pages(demo_sites):
    from wildwatch.demo import skins

    site = generator.load_ground_truth()["demo_tz"]
    hostile = generator.DemoListing(id="x1", site="demo_tz", title="<script>alert(1)</script>", description="&",
                                    price=1, currency="TZS", seller="<b>", location="x", posted="2026-01-01",
                                    label="ordinary")
    html = skins.detail_page(site, hostile)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_demo_site_files_point_at_the_demo_port_in_server_order(monkeypatch, tmp_path):
    """`demo-site --port P` and the site files agree on where each demo marketplace is, for any P."""
    from wildwatch import sites
    from wildwatch.demo.server import SITE_ORDER

    for name in SITE_ORDER:
        monkeypatch.delenv(f"WILDWATCH_BASE_URL__{name.upper()}", raising=False)
    monkeypatch.setenv("WILDWATCH_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("WILDWATCH_DEMO_PORT", raising=False)
    assert [sites.load(n).base_url for n in SITE_ORDER] == [f"http://127.0.0.1:{8701 + i}" for i in range(6)]
    (tmp_path / "ports.json").write_text('{"demo": 9300}')  # a free-port choice of `wildwatch demo`
    assert [sites.load(n).base_url for n in SITE_ORDER] == [f"http://127.0.0.1:{9300 + i}" for i in range(6)]
    monkeypatch.setenv("WILDWATCH_DEMO_PORT", "9100")
    assert [sites.load(n).base_url for n in SITE_ORDER] == [f"http://127.0.0.1:{9100 + i}" for i in range(6)]
    assert set(SITE_ORDER) == {n for n in sites.site_files() if n.startswith("demo_")}


def test_demo_server_must_be_a_small_whole_number(tmp_path):
    import pytest
    import yaml

    from wildwatch import sites

    doc = yaml.safe_load((sites.config.PROJECT_ROOT / "sites" / "demo_vn.yaml").read_text(encoding="utf-8"))
    for bad in (True, -1, 1.5, "1", 10**9):
        (tmp_path / "demo_vn.yaml").write_text(yaml.safe_dump({**doc, "demo_server": bad}, allow_unicode=True),
                                               encoding="utf-8")
        with pytest.raises(sites.SiteError, match="demo_server"):
            sites.load("demo_vn", tmp_path)
