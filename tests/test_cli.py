import json
import subprocess
import sys
from pathlib import Path

from wildwatch import keywords, config
from wildwatch.demo import generator

ROOT = Path(__file__).resolve().parent.parent
WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]


def test_queue_list_shows_the_candidates_of_a_crawl(crawl_env):
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_cm"], cwd=ROOT,
                   env=crawl_env, check=True, capture_output=True)
    out = subprocess.run([*WILDWATCH, "queue", "list", "--json"], env=crawl_env, check=True,
                         capture_output=True, text=True).stdout
    rows = json.loads(out)
    kb = keywords.load(config.load().keywords_dir)
    want = generator.expected_crawl(generator.load_ground_truth()["demo_cm"], [t.term for t in kb.search_queries(["fr"])])
    queued_ids = {r["url"].rsplit("/", 1)[-1] for r in rows}
    assert set(want["should_queue"]) <= queued_ids
    assert all(r["site"] == "demo_cm" and r["terms"] and r["groups"] for r in rows)
    assert {r["language"] for r in rows} <= {"fr", "en"} and "fr" in {r["language"] for r in rows}
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)

    table = subprocess.run([*WILDWATCH, "queue", "list"], env=crawl_env, check=True, capture_output=True,
                           text=True).stdout
    assert table.splitlines()[0].split()[:3] == ["site", "score", "title"]
    assert f"{len(rows)} pending" in table


def test_an_unknown_site_is_one_clear_line(crawl_env):
    result = subprocess.run([sys.executable, "-m", "wildwatch.cli", "queue", "list", "--site", "nowhere"],
                            env=crawl_env, capture_output=True, text=True)
    assert result.returncode == 0 and "empty" in result.stdout


def test_a_numeric_setting_that_is_not_a_number_is_one_line_naming_it():
    import os

    import scratch_dirs

    for name, value, says, command in (
            ("WILDWATCH_RANKER_ACTIVE_YOUNG", "abc", "must be a whole number, not 'abc'", ["demo-report"]),
            ("WILDWATCH_SHARD_SIZE", "1.5", "must be a whole number, not '1.5'", ["demo-report"]),
            ("WILDWATCH_AUDIT_SHARE", "2%", "must be a number, not '2%'", ["demo-report"]),
            ("WILDWATCH_QUEUE_THRESHOLD", "nan", "must be a number, not 'nan'", ["demo-report"]),
            ("WILDWATCH_LEASE_SECONDS", "15m", "must be a whole number, not '15m'", ["review", "--port", "0"])):
        with scratch_dirs.scratch("var") as var_dir:
            env = {**os.environ, "WILDWATCH_VAR_DIR": str(var_dir), name: value}
            done = subprocess.run([*WILDWATCH, *command], env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode != 0 and f"{name} {says}" in done.stderr, (name, done.stderr[-2000:])
            assert "Traceback" not in done.stderr
            # refused before anything started: no database cluster made for a command that cannot run
            assert not list(var_dir.glob("**/PG_VERSION")) and not list(var_dir.glob("*.password")), name
    assert config.number("WILDWATCH_NOT_SET_ANYWHERE", "7") == 7
