"""Xianyu as the survey would crawl it, on the Xianyu-shaped demo (wildwatch/demo/goofish.py): the shipped site
file, a real Chromium, an API the crawler cannot call itself, paging in place and item answers."""
import os
import urllib.error
import urllib.request

import pytest
import yaml

from test_crawl import ROOT, crawl, latest_run
from wildwatch import runs
from wildwatch.demo import goofish

pytestmark = pytest.mark.browser


@pytest.fixture
def xianyu_demo(tmp_path, monkeypatch, crawl_env):
    items = goofish.catalog(14)
    server, counts = goofish.serve(items=items, rows=10)  # two answers of 10 and 4: paged in place, quickly
    base = f"http://127.0.0.1:{server.server_address[1]}"
    folder = tmp_path / "sites"
    folder.mkdir()
    doc = yaml.safe_load((ROOT / "sites" / "xianyu.yaml").read_text())
    doc["politeness"] = {"download_delay": 0, "concurrency": 2}  # the shipped file's own paths and paging
    (folder / "xianyu.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    monkeypatch.setenv("WILDWATCH_BASE_URL__XIANYU", base)
    yield base, items, counts
    server.shutdown()


def test_the_api_refuses_a_crawler_that_calls_it_itself(xianyu_demo):
    base, _, _ = xianyu_demo
    request = urllib.request.Request(base + goofish.SEARCH_API + "?t=1&sign=x", data=b'data={"keyword":"x"}')
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_xianyu_pages_in_place_and_reads_the_item_answers_its_pages_receive(xianyu_demo, conn):
    base, items, counts = xianyu_demo
    crawl("xianyu", dict(os.environ), "-a", "queries=象牙")
    record = runs.site_crawl(conn, latest_run(conn), "xianyu")
    ivory = [x for x in items if "象牙" in x["title"]]
    # two answers (10, 4) read by clicking the pager on one page, then one item page each
    assert counts[goofish.SEARCH_API] == 2 and counts["/search"] == 1
    assert record["status"] == "succeeded" and record["pages_fetched"] == 2 + len(ivory), record
    assert record["listings_seen"] == len(ivory), record
    with conn.cursor() as cur:
        cur.execute("""SELECT l.url, l.description, l.seller, l.seller_account, l.location, l.posted_at,
                              l.image_urls, l.price
                       FROM listings l JOIN sites s ON s.id = l.site_id WHERE s.name = 'xianyu'""")
        stored = {row[0]: row[1:] for row in cur.fetchall()}
    assert set(stored) == {f"{base}/item?id={x['itemId']}" for x in ivory}  # the paid placement is not stored
    first = ivory[0]
    description, seller, account, location, posted, images, price = stored[f"{base}/item?id={first['itemId']}"]
    assert description == first["desc"] and seller == first["nick"] and location == first["city"]
    assert account == f"id:{first['encryptedId']}"  # the search answer's id: one account whichever page was read
    assert len(images) == 3 and images[0].startswith(base + "/img/")  # every photo, from the item answer
    assert posted is not None and float(price) == float(first["soldPrice"])
