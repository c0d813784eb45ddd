"""`wildwatch sites new` on every real page in shared/realdata: no traceback, a clear error and nothing
written when it cannot guess; detail pages get a `detail:` section; realdata pages are referenced, not copied."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wildwatch import config, sitegen, sites

REALDATA = config.load().realdata_dir
PAGES = sorted(p for p in REALDATA.rglob("*") if p.name.endswith((".html", ".html.gz", ".htm"))) \
    if REALDATA.is_dir() else []


def new(tmp_path, monkeypatch, *args):
    folder = tmp_path / "sites"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    return subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "new", *args, "--base-url",
                           "https://example.org", "--country", "TZ", "--language", "sw", "--currency", "TZS"],
                          capture_output=True, text=True, env=dict(os.environ), cwd=config.PROJECT_ROOT), folder


@pytest.mark.skipif(not PAGES, reason=f"no real pages under {REALDATA} (set WILDWATCH_REALDATA to shared/realdata)")
def test_every_real_page_gives_a_site_file_or_a_clear_error_and_never_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(tmp_path))
    outcomes = {"search": 0, "detail": 0, "refused": 0}
    for i, page in enumerate(PAGES):
        rel = str(page.relative_to(REALDATA))
        for kind in ("search", "detail"):
            name = f"zz_real_{kind}_{i}"
            try:
                written = sitegen.new_site(name, None, "https://example.org", "TZ", "sw", "TZS", kind=kind,
                                           realdata=rel)
            except sitegen.SiteGenError as exc:
                assert str(exc) and not (tmp_path / f"{name}.yaml").exists()
                outcomes["refused"] += 1
                continue
            assert written == [tmp_path / f"{name}.yaml"]  # referenced, never copied into the repository
            site = sites.load(name, tmp_path)
            assert site.checks[0]["page"] == f"realdata:{rel}" and site.checks[0]["kind"] == kind
            assert (site.detail is not None) == (kind == "detail")
            outcomes[kind] += 1
    assert outcomes["search"] >= len(PAGES) // 2 and outcomes["detail"] >= len(PAGES) // 2, outcomes
    assert not (config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / "zz_real_search_0").exists()


def test_a_page_without_a_result_list_is_refused_with_the_reason_and_nothing_is_written(tmp_path, monkeypatch):
    saved = tmp_path / "item.html"
    saved.write_text('<html><body class=""><div class=""><a href="/x">one link</a></div>'
                     '<footer class="foot"><a href="/a">a</a><a href="/b">b</a><a href="/c">c</a></footer></body></html>')
    out, folder = new(tmp_path, monkeypatch, "zz_refused", "--page", str(saved))
    assert out.returncode == 1 and "could not guess the result list" in out.stderr and "Traceback" not in out.stderr
    assert not (folder / "zz_refused.yaml").exists()
    assert not (config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / "zz_refused").exists()


def test_an_item_page_starts_a_detail_section(tmp_path, monkeypatch):
    import shutil

    saved = config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / "demo_tz" / "detail.html"
    fixture_dir = config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / "zz_detail_site"
    try:
        out, folder = new(tmp_path, monkeypatch, "zz_detail_site", "--page", str(saved), "--kind", "detail")
        assert out.returncode == 0, out.stderr
        site = sites.load("zz_detail_site", folder)
        assert site.detail.fields["title"] == "h1 ::text"
        assert (fixture_dir / "detail.html").exists()
        check = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "check", "zz_detail_site"],
                               capture_output=True, text=True, env=dict(os.environ), cwd=config.PROJECT_ROOT)
        assert "Pangolin scales" not in check.stderr and "detail" in check.stdout
    finally:
        shutil.rmtree(fixture_dir, ignore_errors=True)


def test_sites_check_fails_when_a_named_sites_page_is_missing(tmp_path, monkeypatch):
    folder = tmp_path / "sites"
    folder.mkdir()
    doc = (config.PROJECT_ROOT / "sites" / "demo_tz.yaml").read_text()
    doc = doc.split("checks:")[0] + 'checks:\n  - {page: "realdata:nowhere/page.html", kind: search}\n'
    (folder / "demo_tz.yaml").write_text(doc)
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    named = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "check", "demo_tz"],
                           capture_output=True, text=True, env=dict(os.environ), cwd=config.PROJECT_ROOT)
    assert named.returncode == 1 and "MISSING" in named.stdout
    every = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "check"],
                           capture_output=True, text=True, env=dict(os.environ), cwd=config.PROJECT_ROOT)
    assert every.returncode == 0 and "skipped" in every.stdout
    assert Path(folder / "demo_tz.yaml").exists()


def test_sites_new_proposes_json_paths_for_a_saved_answer_and_for_a_page_with_a_json_script(tmp_path, monkeypatch):
    import shutil

    from spiders.checks import run_check
    from wildwatch import config, sitegen, sites

    folder = tmp_path / "sites"
    folder.mkdir()
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    saved = tmp_path / "answer.json"
    saved.write_bytes((config.PROJECT_ROOT / "tests/fixtures/sites/demo_rao/search.json").read_bytes())
    fixture_dir = config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / "zz_json_site"
    try:
        sitegen.new_site("zz_json_site", saved, "http://127.0.0.1:8705", "VN", "vi", "VND")
        site = sites.load("zz_json_site", folder)
        assert site.search.json.items == "ads" and site.search.json.fields == {"title": "subject",
                                                                                "price": "price_string"}
        assert site.search.json.link == "{base_url}/{list_id}" and (fixture_dir / "search.json").exists()
        assert run_check(site, site.checks[0]) == []
    finally:
        shutil.rmtree(fixture_dir, ignore_errors=True)
    page = config.load().realdata_dir / "survey-country-marketplaces/jiji/search_pompe.html"
    if not page.exists():
        pytest.skip(f"{page} not found (set WILDWATCH_REALDATA to the shared realdata folder)")
    sitegen.new_site("zz_nuxt_site", None, "https://jiji.sn", "SN", "fr", "XOF",
                     realdata="survey-country-marketplaces/jiji/search_pompe.html")
    site = sites.load("zz_nuxt_site", folder)
    assert site.search.json.script == "__NUXT_DATA__" and site.search.json.link == "url"
    assert site.search.json.fields["title"] == "title" and run_check(site, site.checks[0]) == []
