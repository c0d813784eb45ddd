"""JSON sites and forums: reading answers and page scripts with paths, paging, and what a hostile or broken
JSON answer does to a real crawl (a recorded reason on the run, nothing already stored lost)."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from scrapy.http import HtmlResponse, Request, TextResponse

from helpers import free_port
from spiders import jsondata
from spiders.extract import extract_detail, extract_search, next_search_url
from test_crawl import count, crawl, latest_run
from wildwatch import config, runs, sites

REALDATA = config.load().realdata_dir / "survey-country-marketplaces"


def answer(url: str, doc) -> TextResponse:
    body = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    return TextResponse(url=url, body=body, request=Request(url), encoding="utf-8",
                        headers={"Content-Type": "application/json"})


def site_from(doc: dict, name: str = "zz_json") -> sites.Site:
    return sites.parse({"name": name, "country": "VN", "languages": ["vi"], "base_url": "https://m.example", **doc}, name)


SEARCH = {"url": "https://api.m.example/ads?q={query}", "json": {"items": "ads", "link": "{base_url}/{id}.htm",
                                                                "fields": {"title": "t"}}}


# -- reading JSON ---------------------------------------------------------------------------------------
def test_nuxt3_data_is_rebuilt_with_shared_members_and_survives_cycles_and_bad_indexes():
    flat = [["ShallowReactive", 1], {"data": 2, "again": 2, "loop": 0, "bad": 99, "neg": -1},
            ["Reactive", 3], {"list": 4}, [5, 5], "x"]
    page = f'<script type="application/json" data-nuxt-data="nuxt-app" id="__NUXT_DATA__">{json.dumps(flat)}</script>'
    data = jsondata.from_script(page, "__NUXT_DATA__")
    assert data["data"] == {"list": ["x", "x"]} and data["again"] is data["data"]
    assert data["loop"] is data and data["bad"] is None and data["neg"] is None
    assert jsondata.search("data.list[0]", data) == "x"


def test_scripts_that_are_code_not_data_are_reported_not_evaluated():
    with pytest.raises(jsondata.JsonUnreadable, match="code, not JSON"):
        jsondata.from_script("<script>window.__NUXT__=(function(a){return {x:a}}(1))</script>", "window.__NUXT__")
    with pytest.raises(jsondata.JsonUnreadable, match="no script"):
        jsondata.from_script("<html></html>", "g_page_config")
    assert jsondata.from_script("var g_page_config = {\"a\": [1]};", "g_page_config") == {"a": [1]}
    assert jsondata.from_script("window.data = {\"a\": 1}", "window.data") == {"a": 1}
    assert jsondata.parse_body(")]}',\n{\"a\": 2}") == {"a": 2}
    with pytest.raises(jsondata.JsonUnreadable, match="nested too deeply"):  # a hostile answer, not a traceback
        jsondata.parse_body("[" * 200_000)


def test_templates_give_no_address_when_a_part_is_missing():
    item = {"list_id": 134397861, "o": {"id": "x"}, "parts": [{"text": "¥"}, {"text": "38"}]}
    assert jsondata.render("{base_url}/{list_id}.htm", item, "https://www.chotot.com/") == \
        "https://www.chotot.com/134397861.htm"
    assert jsondata.render("{base_url}/{missing}.htm", item, "https://x") is None
    assert jsondata.render("join('', parts[].text)", item) == "¥38"
    assert jsondata.render("price || to_string(list_id)", item) == "134397861"
    with pytest.raises(sites.SiteError, match="not a JMESPath"):
        site_from({"search": {**SEARCH, "json": {**SEARCH["json"], "link": "ads[?"}}})


@pytest.mark.parametrize("bad, reason", [
    ({"paging": {"by": "sideways"}}, "paging.by"),
    ({"paging": {"by": "offset", "param": "o"}}, "needs 'size'"),
    ({"headers": {"Cookie": "session=1"}}, "not allowed"),
    ({"headers": {"X-A": "b\r\nHost: evil"}}, "one-line"),
    ({"json": {"items": "ads"}}, "'link' is required"),
    ({"paging": {"by": "click"}}, "needs 'selector'"),
    ({"paging": {"by": "click", "selector": "button.next"}}, "needs needs_browser and json capture"),
    ({"paging": {"by": "click", "selector": "button[[next"}}, "not valid CSS"),
])
def test_site_files_with_unsafe_or_incomplete_json_settings_are_refused(bad, reason):
    with pytest.raises(sites.SiteError, match=reason):
        site_from({"search": {**SEARCH, **bad}})


# -- paging ---------------------------------------------------------------------------------------------
def paged(paging: dict, doc: dict, page_no: int = 1, url="https://api.m.example/ads?q=x") -> str | None:
    site = site_from({"search": {**SEARCH, "paging": paging}})
    response = answer(url, doc)
    return next_search_url(site, response, extract_search(site, response), page_no)


def test_paging_by_page_offset_cursor_and_next_url():
    full = {"ads": [{"id": i, "t": f"ad {i}"} for i in range(5)], "next": "c2", "more": True,
            "next_url": "/ads?q=x&page=3"}
    assert paged({"by": "page", "param": "page"}, full, 2) == "https://api.m.example/ads?q=x&page=3"
    assert paged({"by": "offset", "param": "o", "size": 5, "size_param": "limit"}, full, 2) == \
        "https://api.m.example/ads?q=x&o=10&limit=5"
    assert paged({"by": "cursor", "param": "cursor", "from": "next"}, full) == "https://api.m.example/ads?q=x&cursor=c2"
    assert paged({"by": "next_url", "from": "next_url"}, full) == "https://api.m.example/ads?q=x&page=3"
    # the usual bounds: an empty page, a short page, the answer's own "no more", no cursor
    assert paged({"by": "page", "param": "page"}, {"ads": []}) is None
    assert paged({"by": "offset", "param": "o", "size": 10}, full) is None
    assert paged({"by": "page", "param": "page", "more": "more"}, {**full, "more": False}) is None
    assert paged({"by": "cursor", "param": "cursor", "from": "next"}, {**full, "next": None}) is None


# -- the platforms' later pages, built from the real saved answers ---------------------------------------
def real(path: str) -> str:
    file = REALDATA / path
    if not file.exists():
        pytest.skip(f"{file} not found (set WILDWATCH_REALDATA to the shared realdata folder)")
    return file.read_text(encoding="utf-8")


def test_jiji_reads_its_json_api_answer_as_it_reads_the_page_and_follows_next_url():
    # The page's __NUXT_DATA__ holds the answer of /api_web/v1/listing; later pages are that answer alone.
    data = jsondata.from_script(real("jiji/search_pompe.html"), "__NUXT_DATA__")
    listing = data["data"]["/search"]["listing"]
    listing["next_url"] = "https://jiji.co.tz/api_web/v1/listing?query=pompe&page=3"
    site = sites.load("jiji")
    url = "https://jiji.co.tz/api_web/v1/listing?query=pompe&page=2"
    page = extract_search(site, answer(url, listing))
    assert page.problem is None and len(page.results) == 13
    assert page.results[0]["url"] == ("https://jiji.co.tz/dakar-plateau/home-appliances/"
                                      "pompe-immergee-solaires-disponible-8njtFfp3d0UMOFMPcjYjptQO.html")
    assert page.results[0]["price"] == "CFA 250,000"
    assert next_search_url(site, answer(url, listing), page, 2) == listing["next_url"]
    # a category page keys its data by its own path, not "/search"
    moved = {"data": {"/cars": {"listing": listing}}}
    page = f'<script id="__NUXT_DATA__" type="application/json">{json.dumps(flatten(moved))}</script>'
    read = extract_search(site, HtmlResponse(url="https://jiji.co.tz/cars", body=page.encode(), encoding="utf-8"))
    assert len(read.results) == 13


def flatten(value) -> list:
    """The devalue form of a plain JSON value (what Nuxt 3 writes into __NUXT_DATA__)."""
    out: list = []

    def put(v):
        out.append(None)
        i = len(out) - 1
        if isinstance(v, dict):
            out[i] = {k: put(x) for k, x in v.items()}
        elif isinstance(v, list):
            out[i] = [put(x) for x in v]
        else:
            out[i] = v
        return i

    put(value)
    return out


def test_chotot_pages_by_offset_and_its_items_have_an_address_and_an_item_answer():
    doc = json.loads(real("chotot-api/vecyang1_search_seller.json"))
    doc["ads"] = [dict(doc["ads"][0], list_id=doc["ads"][0]["list_id"] + i, subject=f"ad {i}") for i in range(20)]
    site = sites.load("chotot")
    url = "https://gateway.chotot.com/v1/public/ad-listing?q=ng%C3%A0+voi&limit=20&o=20"
    page = extract_search(site, answer(url, doc))
    assert len(page.results) == 20 and page.results[3]["url"] == "https://www.chotot.com/134397864.htm"
    assert page.results[3]["_fetch"] == "https://gateway.chotot.com/v1/public/ad-listing/134397864"
    assert next_search_url(site, answer(url, doc), page, 2) == \
        "https://gateway.chotot.com/v1/public/ad-listing?q=ng%C3%A0+voi&o=40&limit=20"


def test_xianyu_skips_paid_placements_and_reads_captured_answers():
    doc = jsondata.from_script(real("xianyu-search-api/xianyupp_data1.js"), "window.data")
    doc["data"]["resultList"][1]["data"]["item"]["main"]["exContent"]["isAliMaMaAD"] = True
    site = sites.load("xianyu")
    response = HtmlResponse(url="https://www.goofish.com/search?q=x", body=b"<html></html>")
    page = extract_search(site, response, captured=[json.dumps(doc).encode(), b'{"other": "answer"}'])
    assert len(page.results) == 29 and page.results[0]["seller_id"] == "uvZiZTxtXTuX0S8ANInXkg=="
    nothing = extract_search(site, response, captured=[])
    assert nothing.problem and "no answer" in nothing.problem


def test_a_forum_thread_keeps_the_authors_replies_not_other_peoples():
    site = sites.load("demo_forum")
    body = (config.PROJECT_ROOT / "tests/fixtures/sites/demo_forum/detail.html").read_bytes()
    fields = extract_detail(site, HtmlResponse(url="http://127.0.0.1:8706/p/5900000002", body=body))
    assert fields["description"] == "老象牙手镯两只，纹理清晰，有意私聊。"
    assert fields["replies"] == "还有货，加微信 laozhang_888 看视频" and "多少钱" not in fields["replies"]


# -- a hostile JSON site, crawled for real --------------------------------------------------------------
class HostileApi(BaseHTTPRequestHandler):
    """A JSON classifieds API that breaks in every way the issue names."""

    def log_message(self, *args):
        pass

    def send(self, body: bytes, content_type="application/json", status=200):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        if url.path == "/robots.txt":
            return self.send(b"User-agent: *\n", "text/plain")
        if url.path == "/ads":
            term, cursor = q.get("q", [""])[0], q.get("cursor", [""])[0]
            if term == "html":  # a maintenance page where JSON was due
                return self.send(b"<html><body>Maintenance</body></html>", "text/html")
            if term == "moved":  # a redesign: the results moved
                return self.send(json.dumps({"data": {"list": []}}).encode())
            ads = [{"id": 1 if not cursor else 3, "t": "Vòng ngà voi thật"}, {"t": "no id at all"}]
            if not cursor:
                ads.append({"id": 2, "t": "Vảy tê tê khô"})
            # the cursor comes round again: page 2 announces itself
            return self.send(json.dumps({"ads": ads, "next": "again"}).encode())
        if url.path.startswith("/item/"):
            if url.path == "/item/2":
                return self.send(b'{"unexpected": "shape"}')
            return self.send(json.dumps({"ad": {"title": "Vòng ngà voi thật", "body": "Ngà voi tự nhiên"}}).encode())
        return self.send(b"{}", status=404)


@pytest.fixture
def hostile_api():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), HostileApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_broken_json_answers_are_recorded_on_the_run_and_what_was_read_is_kept(crawl_env, conn, tmp_path,
                                                                              monkeypatch, hostile_api):
    folder = tmp_path / "sites"
    folder.mkdir()
    doc = {"name": "zz_hostile_api", "title": "hostile", "country": "VN", "languages": ["vi"], "currency": "VND",
           "base_url": hostile_api, "politeness": {"download_delay": 0, "concurrency": 2, "autothrottle": False},
           "search": {"url": "{base_url}/ads?q={query}",
                      "json": {"items": "ads", "link": "{base_url}/listing/{id}", "fields": {"title": "t"}},
                      "paging": {"by": "cursor", "param": "cursor", "from": "next"}},
           "detail": {"url": "{base_url}/item/{id}", "json": {"fields": {"title": "ad.title", "description": "ad.body"}}},
           "checks": [{"page": "fixtures:demo_rao/search.json", "kind": "search"}]}
    (folder / "zz_hostile_api.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    result = crawl("zz_hostile_api", dict(os.environ), "-a", "queries=ngà voi,html,moved")
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    record = runs.site_crawl(conn, latest_run(conn), "zz_hostile_api")
    reason = record["reason"]
    assert record["status"] == "failed"
    assert "answer is not JSON" in reason and "the results path 'ads' matched nothing" in reason
    assert "result without an address (x2)" in reason and "paging repeated an address" in reason
    stats = runs_stats(conn)
    assert any("no item path matched" in k for k in stats["page_problems"]), stats["page_problems"]
    assert any("paging repeated" in k for k in stats["page_problems"]), stats["page_problems"]
    # every listing with an address was stored: ids 1, 2 (its item answer unreadable: the card stands) and 3
    assert count(conn, "listings") == 3
    with conn.cursor() as cur:
        cur.execute("SELECT url, title, description FROM listings ORDER BY url")
        rows = cur.fetchall()
    assert [r[0].rsplit("/", 1)[1] for r in rows] == ["1", "2", "3"]
    assert rows[0][2] == "Ngà voi tự nhiên" and rows[1][1] == "Vảy tê tê khô" and rows[1][2] is None


def runs_stats(conn) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT stats FROM site_crawls ORDER BY run_id DESC LIMIT 1")
        return cur.fetchone()[0]


def test_chotot_web_pages_carry_the_same_answers_in_next_data():
    """Chợ Tốt's pages are Next.js: the search answer under props.initialState.adlisting.data, the item answer
    under props.initialState.adView.adInfo (the documented layout), read with the same paths as the API."""
    search_answer = json.loads(real("chotot-api/vecyang1_search_seller.json"))
    item_answer = json.loads(real("chotot-api/vecyang1_detail_listing.json"))
    site = sites.load("chotot")

    def web(url, state):
        data = json.dumps({"props": {"initialState": state}, "page": "/"}, ensure_ascii=False)
        body = f'<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{data}</script>'
        return HtmlResponse(url=url, body=body.encode(), encoding="utf-8")

    page = extract_search(site, web("https://www.chotot.com/mua-ban?q=iphone", {"adlisting": {"data": search_answer}}))
    api = extract_search(site, answer("https://gateway.chotot.com/v1/public/ad-listing?q=iphone", search_answer))
    assert page.results == api.results and page.results[0]["url"] == "https://www.chotot.com/134397861.htm"
    item = extract_detail(site, web("https://www.chotot.com/134397861.htm", {"adView": {"adInfo": item_answer}}))
    assert item == extract_detail(site, answer("https://gateway.chotot.com/v1/public/ad-listing/134397861", item_answer))
    assert item["seller_url"] == "https://www.chotot.com/user/3cc4f7b9c2743c61b5f60c6f62063743"


def test_tieba_reads_the_pc_thread_list_hidden_in_an_html_comment():
    """Tieba's PC forum page ships its thread list inside <code><!-- ... --></code> (documented markup, no real
    page saved): the site file reads it as markup, the ads (no data-tid) left out."""
    threads = "".join(
        f'<li class=" j_thread_list clearfix thread_item_box" data-tid="{tid}"><div class="threadlist_title pull_left '
        f'j_th_tit "><a rel="noreferrer" href="/p/{tid}" title="{title}" target="_blank" class="j_th_tit ">{title}</a>'
        f'</div><span class="tb_icon_author " title="主题作者: {name}"><span class="frs-author-name-wrap"><a '
        f'class="frs-author-name j_user_card " href="/home/main/?un={name}&amp;ie=utf-8&amp;fr=frs">{name}</a></span>'
        f'</span></li>' for tid, title, name in ((111, "出象牙手镯", "老王"), (222, "求购犀角杯", "小李")))
    ad = '<li class=" j_thread_list clearfix"><a class="j_th_tit" href="javascript:;" title="推广">推广</a></li>'
    body = (f'<html><body><code id="pagelet_html_frs-list/pagelet/thread_list" style="display:none;"><!--'
            f'<ul id="thread_list" class="threadlist_bright j_threadlist_bright">{threads}{ad}</ul>--></code></body></html>')
    site = sites.load("tieba")
    page = extract_search(site, HtmlResponse(url="https://tieba.baidu.com/f?kw=%E8%B1%A1%E7%89%99&pn=0",
                                             body=body.encode(), encoding="utf-8"))
    assert [r["url"] for r in page.results] == ["https://tieba.baidu.com/p/111", "https://tieba.baidu.com/p/222"]
    assert page.results[0]["title"] == "出象牙手镯" and page.results[0]["seller"] == "老王"


@pytest.mark.browser
def test_a_browser_site_is_read_from_the_json_answers_its_page_receives(crawl_env, conn, tmp_path, monkeypatch):
    """As for Xianyu (whose API its page signs): Chromium loads the demo's Chinese search page, whose script
    fetches /api/search; the site file reads those answers with paths, and pages by page number until the
    answer says it was the last. Everything the HTML reading finds is found."""
    from test_crawl import _site_variant, expected, seen_ids

    def capture(doc):
        doc["search"] = {"url": "{base_url}/search?q={query}",
                         "json": {"capture": "/api/search", "items": "items", "link": "url",
                                  "fields": {"title": "title", "price": "price", "location": "location"}},
                         "paging": {"by": "page", "param": "page", "more": "page < pages"}}
        doc["checks"] = [{"page": "fixtures:demo_cn/search.html", "kind": "search"}]

    _site_variant(tmp_path, monkeypatch, capture, site="demo_cn")
    crawl("demo_cn", dict(os.environ))
    run_id = latest_run(conn)
    record = runs.site_crawl(conn, run_id, "demo_cn")
    want = expected("demo_cn")
    assert record["status"] == "succeeded", record
    assert (record["pages_fetched"], record["listings_seen"]) == (want["pages"], want["listings"])
    assert seen_ids(conn, run_id) == set(want["listing_ids"])
