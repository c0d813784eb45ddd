"""One Airflow pool per site (`site_<name>`), its slots the site file's `concurrency`: however many workers
and survey runs there are, no more of a site's shards crawl at once than the site allows.

The scheduler leaves a task whose pool does not exist waiting forever (with only a warning in its log), so
every way we start Airflow imports the pools first: `wildwatch airflow start`, `wildwatch cluster start`,
and docker-compose's airflow-init (`wildwatch pools sync`). Run it again after adding a site or changing a
site's concurrency.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

from wildwatch import config, shards, sites


def spec(site_list: list[sites.Site] | None = None) -> dict[str, dict]:
    """The pools in the format `airflow pools import` reads."""
    return {shards.pool_name(site.name): {
        "slots": site.concurrency, "include_deferred": False,
        "description": f"{site.name}: crawl shards at once (the site file's concurrency)"}
        for site in (sites.load_all() if site_list is None else site_list)}


def sync(env: dict | None = None) -> dict[str, dict]:
    """Create or update every site's pool in Airflow's metadata database; returns what was imported."""
    pools = spec()
    env = env if env is not None else _airflow_env()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(pools, fh)
    try:
        result = _airflow(env, "pools", "import", fh.name)
    finally:
        os.unlink(fh.name)
    if result.returncode != 0:
        raise RuntimeError(f"airflow pools import failed: {(result.stderr or result.stdout)[-800:]}")
    return pools


def check(env: dict | None = None) -> list[str]:
    """What is wrong with the site pools in Airflow: missing ones, or slots that differ from the site file."""
    env = env if env is not None else _airflow_env()
    result = _airflow(env, "pools", "list", "-o", "json")
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        return [f"cannot list Airflow's pools: {lines[-1][:300]}"]
    have = {p["pool"]: int(p["slots"]) for p in json.loads(result.stdout or "[]")}
    problems = []
    for name, want in spec().items():
        if name not in have:
            problems.append(f"{name} is missing")
        elif have[name] != want["slots"]:
            problems.append(f"{name} has {have[name]} slots, the site file says {want['slots']}")
    return problems


def _airflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    from wildwatch.airflow_env import airflow_cli

    return subprocess.run([airflow_cli(), *args], env=env, capture_output=True, text=True, timeout=300)


def _airflow_env() -> dict:
    """The project's Airflow settings, unless the environment already configures Airflow (docker-compose)."""
    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return dict(os.environ)
    from wildwatch.airflow_env import airflow_env

    return {**os.environ, **airflow_env(config.load())}
