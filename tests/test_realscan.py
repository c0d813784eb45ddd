"""The keyword lists on real wording: `wildwatch keywords scan` and keywords/eval/realdata.csv."""
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wildwatch import config, keywords, matching, realscan, realtext

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "keywords" / "eval" / "realdata.csv"
REALDATA = config.load().realdata_dir
HEADER = "source,text_key,label,group,note\n"


@pytest.fixture(scope="module")
def matcher():
    return matching.Matcher(keywords.load(config.load().keywords_dir))


def _texts(path: Path) -> list[str]:
    return [t.text for t in realtext.texts(path, path.parent)]


def test_a_page_gives_what_a_reader_sees_once(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><head><title>Shop</title><style>.ivory{color:red}</style>"
                    "<script>var x = 'rhino horn';</script></head><body><!-- tusk -->"
                    "<h1>Carved  ivory\n bangle</h1><p>Carved ivory bangle</p><p>x</p>"
                    "<a href='/rhino-horn'>/rhino-horn</a><img alt='pangolin scales' src='a.jpg'>"
                    "<span title='bear bile'>?</span><noscript>tiger bone</noscript></body></html>")
    assert _texts(page) == ["Shop", "Carved ivory", "bangle", "Carved ivory bangle", "pangolin scales", "bear bile"]


def test_json_answers_gzipped_wrapped_and_broken_pages(tmp_path):
    answer = tmp_path / "a.json.gz"
    answer.write_bytes(gzip.compress(json.dumps(
        {"ads": [{"subject": "Vòng ngà voi", "price": 1, "url": "https://x.vn/1"}], "n": "ok"}).encode()))
    assert _texts(answer) == ["Vòng ngà voi"]  # numbers, URLs and two-letter strings are no listing text
    wrapped = tmp_path / "w.js"
    wrapped.write_text('mtopjsonp1({"data": {"title": "\\u8c61\\u7259\\u624b\\u956f"}})', encoding="utf-8")
    assert _texts(wrapped) == ["象牙手镯"]
    cp1252 = tmp_path / "l.html"
    cp1252.write_bytes("<p>Défense d'éléphant</p>".encode("cp1252"))
    assert _texts(cp1252) == ["Défense d'éléphant"]
    for name, content in (("empty.html", b""), ("junk.html", b"\x00\xff<<<>"), ("bad.json", b'{"a": ')):
        (tmp_path / name).write_bytes(content)
        _texts(tmp_path / name)  # no crash, whatever it yields


def test_a_page_that_cannot_be_read_is_skipped_with_its_reason(tmp_path, matcher, monkeypatch):
    (tmp_path / "ok.html").write_text("<p>Carved ivory bangle</p>", encoding="utf-8")
    (tmp_path / "fake.html.gz").write_bytes(b"<p>not gzip</p>")
    monkeypatch.setattr(realtext, "MAX_PAGE_BYTES", 1000)
    (tmp_path / "bomb.json.gz").write_bytes(gzip.compress(b" " * 10_000))
    result = realscan.scan(matcher, tmp_path, {}, 1.0)
    assert result["total"]["texts"] == 1
    reasons = {p["source"]: p["reason"] for p in result["skipped_pages"]}
    assert reasons["bomb.json.gz"] == "over 1,000 bytes decompressed" and reasons["fake.html.gz"].startswith("cannot be read")


def test_a_text_is_named_by_a_hash_of_its_collapsed_form():
    assert realtext.text_key("Carved  ivory\n bangle ") == realtext.text_key("Carved ivory bangle")
    assert len(realtext.text_key("x")) == 12


def _folder(tmp_path: Path) -> Path:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "shop.html").write_text("<p>Carved ivory bangle</p><p>Ivory</p><p>Samsung phone</p>"
                                     "<p>Bán sừng tê giác</p>", encoding="utf-8")
    return pages


def _labels(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_scan_counts_offers_false_alarms_and_unreviewed_hits(tmp_path, matcher):
    pages = _folder(tmp_path)
    key = realtext.text_key
    labels = _labels(tmp_path, [f"shop.html,{key('Carved ivory bangle')},1,ivory,an offer",
                                f"shop.html,{key('Ivory')},0,ivory,a colour filter",
                                f"shop.html,{key('Samsung phone')},1,,an offer the lists miss",
                                "shop.html,0123456789ab,0,,a text since removed"])
    result = realscan.scan(matcher, pages, realscan.read_reviews(labels), 1.0)
    total = result["total"]
    assert (total["texts"], total["flagged"], total["offers"], total["offers_found"]) == (4, 3, 2, 1)
    assert [r["text"] for r in result["false_alarms"]] == ["Ivory"]
    assert [r["text"] for r in result["offers_missed"]] == ["Samsung phone"]
    assert [r["text"] for r in result["unreviewed"]] == ["Bán sừng tê giác"]
    assert result["stale_reviews"] == ["shop.html 0123456789ab"]


@pytest.mark.parametrize("content, message", [
    ("source,label\n", "missing column(s) text_key, group, note"),
    (HEADER + "a.html,0123456789ab,yes,,\n", "line 2: label must be 0 or 1"),
    (HEADER + "a.html,0123456789ab,0,,\na.html,0123456789ab,1,,\n", "line 3: a.html 0123456789ab reviewed twice"),
])
def test_a_bad_labels_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "labels.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(realscan.LabelsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        realscan.read_reviews(path)


def test_scan_cli_strict_fails_until_every_hit_is_reviewed(tmp_path):
    pages = _folder(tmp_path)
    cmd = [sys.executable, "-m", "wildwatch.cli", "keywords", "scan", str(pages), "--strict"]
    labels = _labels(tmp_path, [])
    run = subprocess.run(cmd + ["--labels", str(labels)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "not yet reviewed" in run.stdout and "Carved ivory bangle" in run.stdout
    key = realtext.text_key
    labels = _labels(tmp_path, [f"shop.html,{key(t)},{label},,"
                                for t, label in (("Carved ivory bangle", 1), ("Ivory", 0), ("Bán sừng tê giác", 1))])
    run = subprocess.run(cmd + ["--labels", str(labels), "--json"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["total"]["offers_found"] == 2
    (pages / "hostile.html").write_text("<p>i\x1b[2Jvory bangle \x1b]0;owned\x07 rhino horn</p>", encoding="utf-8")
    run = subprocess.run(cmd + ["--labels", str(labels)], capture_output=True, text=True, cwd=ROOT)
    assert "rhino horn" in run.stdout and "\x1b" not in run.stdout and "\x07" not in run.stdout  # shown, not run
    # one country's pages, inside the realdata folder, are scanned against the labels of the whole folder
    sub = pages / "tz"
    sub.mkdir()
    (sub / "jiji.html").write_text("<p>Bangili ya pembe ya ndovu</p>", encoding="utf-8")
    labels = _labels(tmp_path, [f"tz/jiji.html,{key('Bangili ya pembe ya ndovu')},1,ivory,"])
    run = subprocess.run(cmd + ["--labels", str(labels), "--json"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "WILDWATCH_REALDATA": str(pages)})
    out = json.loads(run.stdout)
    assert out["total"]["offers_found"] == 1 and out["folder"] == str(pages)
    run = subprocess.run(cmd[:5] + [str(sub), "--labels", str(labels), "--json"], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "WILDWATCH_REALDATA": str(pages)})
    out = json.loads(run.stdout)
    assert out["pages"] == 1 and out["total"]["offers_found"] == 1 and not out["unreviewed"], out
    run = subprocess.run(cmd[:5] + [str(tmp_path / "nowhere")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "no such folder" in run.stderr


def _real_pages(sources: set[str]) -> list[Path]:
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} not found (set WILDWATCH_REALDATA to the shared realdata folder)")
    return sorted(REALDATA / s for s in sources)


def test_every_hit_on_the_survey_countries_real_pages_is_reviewed(matcher):
    # Jiji, Jumia Cameroon, Chợ Tốt, Xianyu, Baidu Tieba: where the users' surveys run. A new term that fires on
    # their real wording shows up here first; review it into realdata.csv (`wildwatch keywords scan`).
    reviews = realscan.read_reviews(LABELS)
    pages = realtext.pages(_real_pages({"survey-country-marketplaces"})[0])
    result = realscan.scan(matcher, REALDATA, reviews, config.load().queue_threshold, pages=pages)
    assert result["total"]["texts"] > 1500
    assert not result["unreviewed"], [(r["source"], r["text_key"], r["text"]) for r in result["unreviewed"]]


def test_the_reviewed_real_texts_hold(matcher):
    """Every reviewed offer is still found, every reviewed text still on its page, and nothing new is flagged
    on the pages reviewed so far (the whole folder: `wildwatch keywords scan --strict`, ~15 s)."""
    reviews = realscan.read_reviews(LABELS)
    assert any(r.label for r in reviews.values()) and all(r.note for r in reviews.values())
    pages = _real_pages({source for source, _ in reviews})
    result = realscan.scan(matcher, REALDATA, reviews, config.load().queue_threshold, pages=pages)
    assert not result["stale_reviews"], result["stale_reviews"]
    assert not result["offers_missed"], result["offers_missed"]
    assert not result["unreviewed"], [(r["source"], r["text_key"], r["text"]) for r in result["unreviewed"]]
    fixed = [r for r in reviews.values() if not r.label and "still flagged" not in r.note]
    alarms = {(r["source"], r["text_key"]) for r in result["false_alarms"]}
    assert not [r.note for r in fixed if (r.source, r.text_key) in alarms]
