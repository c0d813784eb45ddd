"""Every site file is proven on the saved pages it lists under `checks` (real pages from shared/realdata,
read in place and skipped where absent; demo pages from tests/fixtures)."""
import pytest

from spiders.checks import PageMissing, run_check
from wildwatch import sites

CASES = [(site.name, i, check) for site in sites.load_all() for i, check in enumerate(site.checks)]


def test_every_site_lists_a_search_page_to_check():
    for site in sites.load_all():
        assert any(c["kind"] == "search" for c in site.checks), f"{site.name}: add a saved search page under checks"


@pytest.mark.parametrize("name, index, check", CASES, ids=[f"{n}-{i}-{c['kind']}" for n, i, c in CASES])
def test_site_reads_its_saved_pages(name, index, check):
    site = sites.load(name)
    try:
        problems = run_check(site, check)
    except PageMissing as exc:
        pytest.skip(f"{exc} (set WILDWATCH_REALDATA to the shared realdata folder)")
    assert problems == [], f"{name} {check['page']}: {problems}"
