"""Language per listing: detected from the listing's own text, the site's language only for short text."""
from types import SimpleNamespace

import pytest
from scrapy.utils.test import get_crawler

from pipelines.enqueue import queue_reason
from pipelines.language import LanguagePipeline
from pipelines.store import store_listing
from wildwatch.language import detect


@pytest.mark.parametrize("title, language", [
    ("Pembe za ndovu zinauzwa kwa bei nzuri", "sw"),
    ("Bracelet en ivoire véritable, prix à débattre", "fr"),
    ("Vòng tay ngà voi thật giá tốt", "vi"),
    ("Vong nga voi that gia tot", "vi"),  # without diacritics, as sellers write it
    ("老象牙手镯 包浆自然", "zh"),
    ("Radiated tortoise baby for sale", "en"),
])
def test_each_listing_gets_its_own_language_on_a_chinese_site(title, language):
    assert detect(title, ["zh"]) == language


@pytest.mark.parametrize("title, language", [
    ("Tiger Balm red 19g x 3", "en"),  # product names in plain ASCII are not Vietnamese ...
    ("bovine bone netsuke, Meiji period", "en"),
    ("vong tay nga voi that", "vi"),  # ... Vietnamese typed without diacritics is
    ("Sung te giac that 100%", "vi"),
    ("Mat gau rung", "vi"),  # too short to tell: the site's language
])
def test_plain_ascii_names_on_a_vietnamese_site_are_not_taken_for_vietnamese(title, language):
    assert detect(title, ["vi"]) == language


def test_short_text_falls_back_to_the_site_language():
    assert detect("iPhone 12", ["zh"]) == "zh"
    assert detect("Ngà", ["vi", "en"]) == "vi"
    assert detect("", ["sw", "en"]) == "sw"


def test_the_pipeline_stores_swahili_french_and_vietnamese_titles_of_a_chinese_site_as_such(conn):
    crawler = get_crawler()
    crawler.spider = SimpleNamespace(site=SimpleNamespace(name="demo_cn", languages=["zh"], country="CN"))
    pipeline = LanguagePipeline.from_crawler(crawler)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES ('demo_cn', 'CN', '{zh}', 'http://x')"
                    " RETURNING id")
        site_id = cur.fetchone()[0]
        cur.execute("INSERT INTO crawl_runs (run_key, kind, period) VALUES ('r', 'manual', '2026-11-01') RETURNING id")
        run_id = cur.fetchone()[0]
        titles = {"Pembe za ndovu zinauzwa, bei poa": "sw", "Défense d'éléphant sculptée à vendre": "fr",
                  "Sừng tê giác nguyên khối giá tốt": "vi", "犀牛角杯 老货": "zh"}
        for i, title in enumerate(titles):
            item = pipeline.process_item({"url": f"http://x/{i}", "title": title, "score": 0.0, **{
                k: None for k in ("description", "price", "currency", "seller", "location", "posted")},
                "image_urls": []})
            store_listing(conn, item, site_id, run_id, {})
        cur.execute("SELECT title, language FROM listings")
        assert dict(cur.fetchall()) == titles
    assert crawler.stats.get_value("wildwatch/language/sw") == 1


def test_queue_policy_keyword_threshold_or_ranker_threshold():
    assert queue_reason({"score": 3.0}, 1.0) == (3.0, "keywords")
    assert queue_reason({"score": 0.2}, 1.0) is None
    ranked = {"score": 0.2, "rank_score": 0.7, "rank_threshold": 0.4}
    assert queue_reason(ranked, 1.0) == (0.7, "ranker")  # found by the model alone
    assert queue_reason({**ranked, "rank_score": 0.1}, 1.0) is None
    # with a model the queue is ordered by its score, whatever put the item there
    assert queue_reason({"score": 3.0, "rank_score": 0.1, "rank_threshold": 0.4}, 1.0) == (0.1, "keywords")


def test_vietnamese_letters_settle_it_but_a_vietnamese_address_in_english_does_not():
    assert detect("Bán vòng tay ngà voi thật, hàng xách tay từ châu Phi, bảo hành trọn đời", ["zh"]) == "vi"
    english = ("Genuine old ivory bangle for sale, hand carved, 62 mm inner diameter, collected in person only. "
               "Pickup at Quận Bình Thạnh, Thành phố Hồ Chí Minh.")
    assert detect(english, ["vi"]) == "en"


def test_the_detector_model_is_unpacked_once_into_the_cache_and_a_damaged_cache_is_replaced(tmp_path):
    import os
    import subprocess
    import sys
    import time

    texts = ["Pembe za ndovu zinauzwa kwa bei nzuri", "Bracelet en ivoire véritable, prix à débattre",
             "Vong nga voi that gia tot", "Radiated tortoise baby for sale", "Carved ivory tusk antique 19th century"]
    code = ("import json, sys; from wildwatch.language import _identifier; "
            f"print(json.dumps([_identifier().rank(t)[:3] for t in {texts!r}]))")

    def ranks(cache_home) -> tuple[list, str]:
        env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr

    # the package's own loader, which the cache must agree with to the last digit
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from wildwatch.language import CANDIDATES
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(list(CANDIDATES))
    import json
    want = json.loads(json.dumps([reference.rank(t)[:3] for t in texts]))

    first, _ = ranks(tmp_path)
    [cached] = (tmp_path / "wildwatch").glob("py3langid-*.npz")
    assert json.loads(first) == want
    stamp = cached.stat().st_mtime_ns
    again, _ = ranks(tmp_path)
    assert json.loads(again) == want and cached.stat().st_mtime_ns == stamp, "read from the cache, not unpacked again"

    cached.write_bytes(cached.read_bytes()[:1000])  # a disk that filled up, a copy cut short
    killed, writing = cached.parent / ".killed.tmp", cached.parent / ".writing.tmp"
    for left in (killed, writing):
        left.write_bytes(b"x" * 1000)
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    repaired, said = ranks(tmp_path)
    assert json.loads(repaired) == want and "unreadable" in said
    assert cached.stat().st_size > 1_000_000
    assert not killed.exists() and writing.exists(), "a dead writer's leftover goes, a live one's stays"

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    unwritable, said = ranks(blocked)  # no cache to be had: the model comes from the package, as before
    assert json.loads(unwritable) == want and "not written" in said
