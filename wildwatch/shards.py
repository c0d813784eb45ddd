"""Keyword shards: a site's search terms cut into parts that separate tasks (on separate workers) crawl.

A shard is a contiguous slice of the site's term list, so the planner and the spider agree on it from the
shard number alone. The site's politeness budget (its file's `concurrency` and `download_delay`) is shared
by the shards that may run at once: the Airflow pool `site_<name>` lets at most `concurrency` of them run,
and each then gets an equal part of the budget, so a site never sees more than one crawl's worth of traffic.
"""
from __future__ import annotations

import math

from wildwatch.sites import Site

# Summed over a site's shards; everything else in a crawl's stats is derived or merged below.
SUMMED = ("pages", "search_pages", "detail_pages", "details_skipped", "requests", "errors", "skipped_failed",
          "layout_empty_pages", "layout_empty_detail_pages", "items", "dropped", "stored", "queued", "spooled",
          "robots_forbidden")
MERGED = ("error_reasons", "query_results", "field_counts", "page_problems")


def count(terms: int, size: int) -> int:
    """How many shards `terms` search terms make at `size` terms per shard (at least one)."""
    if size < 1:
        raise ValueError(f"shard size must be at least 1, not {size}")
    return max(1, math.ceil(terms / size))


def part(terms: list[str], shard: int, shards: int) -> list[str]:
    """The terms shard `shard` (0-based) of `shards` searches: every term in exactly one shard."""
    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"no shard {shard} of {shards}")
    n = len(terms)
    return terms[shard * n // shards:(shard + 1) * n // shards]


def pool_name(site_name: str) -> str:
    return f"site_{site_name}"


def politeness(site: Site, shards: int) -> tuple[float, int]:
    """(download delay, concurrent requests) for one shard's crawl: the site's budget divided among the
    shards its pool lets run together."""
    together = max(1, min(site.concurrency, shards))
    return site.download_delay * together, max(1, site.concurrency // together)


def _merge_counts(dicts) -> dict:
    total: dict = {}
    for d in dicts:
        for key, value in (d or {}).items():
            total[key] = total.get(key, 0) + value
    return total


def aggregate(shard_stats: list[dict]) -> dict:
    """One site crawl's stats from its shards' stats (the shape CrawlRunRecorder.collect gives)."""
    total = {key: sum(s.get(key) or 0 for s in shard_stats) for key in SUMMED}
    for key in MERGED:
        total[key] = _merge_counts(s.get(key) for s in shard_stats)
    reasons = [s.get("finish_reason") for s in shard_stats]
    total["finish_reason"] = next((r for r in reasons if r != "finished"), "finished")
    errors = [s["database_error"] for s in shard_stats if s.get("database_error")]
    total["database_error"] = "; ".join(dict.fromkeys(errors)) or None
    spools = [s["spool_file"] for s in shard_stats if s.get("spool_file")]
    total["spool_file"] = ", ".join(spools) or None
    total["shards"] = len(shard_stats)
    return total
