"""Every site file is proven on the saved pages it lists under `checks` (real pages from shared/realdata,
read in place and skipped where absent; demo pages from tests/fixtures)."""
import pytest

from spiders.checks import PageMissing, run_check
from wildwatch import sites

CASES = [(site.name, i, check) for site in sites.load_all() for i, check in enumerate(site.checks)]


def test_every_site_lists_a_search_page_to_check():
    # A site proven only on item pages (no saved search page exists yet) may not be enabled.
    for site in sites.load_all():
        assert site.checks, f"{site.name}: add saved pages under checks"
        if site.enabled:
            assert any(c["kind"] == "search" for c in site.checks), f"{site.name}: add a saved search page"


@pytest.mark.parametrize("name, index, check", CASES, ids=[f"{n}-{i}-{c['kind']}" for n, i, c in CASES])
def test_site_reads_its_saved_pages(name, index, check):
    site = sites.load(name)
    try:
        problems = run_check(site, check)
    except PageMissing as exc:
        pytest.skip(f"{exc} (set WILDWATCH_REALDATA to the shared realdata folder)")
    assert problems == [], f"{name} {check['page']}: {problems}"


def test_sites_check_prints_field_coverage_and_fails_on_a_broken_site(tmp_path, monkeypatch):
    import subprocess
    import sys

    import yaml

    out = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "check", "demo_vn"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "title 100%" in out.stdout and "OK" in out.stdout
    folder = tmp_path / "sites"
    folder.mkdir()
    doc = yaml.safe_load((sites.site_files()["demo_vn"]).read_text())
    doc["search"]["fields"]["price"] = "span.gone::text"  # a redesign moved the price
    (folder / "demo_vn.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    import os

    broken = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "check", "demo_vn"],
                            capture_output=True, text=True, env=dict(os.environ))
    assert broken.returncode == 1 and "price   0%" in broken.stdout and "results without price" in broken.stdout


def test_sites_new_writes_a_site_file_and_keeps_the_page_as_its_check(tmp_path, monkeypatch):
    import os
    import shutil
    import subprocess
    import sys

    from wildwatch import config

    folder = tmp_path / "sites"
    folder.mkdir()
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    saved = tmp_path / "saved.html"
    saved.write_text((config.PROJECT_ROOT / "tests/fixtures/sites/demo_tz/search.html").read_text())
    fixture_dir = config.PROJECT_ROOT / "tests" / "fixtures" / "sites" / "zz_new_site"
    try:
        out = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "new", "zz_new_site", "--page",
                              str(saved), "--base-url", "https://example.org", "--country", "TZ", "--language", "sw",
                              "--currency", "TZS"], capture_output=True, text=True, env=dict(os.environ))
        assert out.returncode == 0, out.stderr
        site = sites.load("zz_new_site", folder)
        assert site.enabled is False and site.search.results == "div.ad-card"  # guessed from the repeated links
        assert (fixture_dir / "search.html").exists()
        again = subprocess.run([sys.executable, "-m", "wildwatch.cli", "sites", "new", "zz_new_site", "--page",
                                str(saved), "--base-url", "https://example.org", "--country", "TZ", "--language",
                                "sw", "--currency", "TZS"], capture_output=True, text=True, env=dict(os.environ))
        assert again.returncode == 1 and "already exists" in again.stderr
    finally:
        shutil.rmtree(fixture_dir, ignore_errors=True)
