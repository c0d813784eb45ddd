"""Settings, read from the environment once per process.

Every setting has a default that works on a developer machine: the project manages its own PostgreSQL
cluster under var/ unless WILDWATCH_DATABASE_URL points elsewhere.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from wildwatch import ports

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that must never reach production: the placeholders in .env.example and docs.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "password", "please-change"}


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


def number(name: str, default, kind=int):
    """A numeric setting from the environment; a value that is not a number is a ConfigError naming it."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return kind(default)
    try:
        parsed = kind(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or (kind is float and not math.isfinite(parsed)):  # "nan": every comparison false
        raise ConfigError(f"{name} must be {'a whole number' if kind is int else 'a number'}, not {value!r}")
    return parsed


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    pg_data: Path = PROJECT_ROOT / "var" / "pg"
    pg_port: int = 54329
    # The demo marketplaces' first port (six consecutive ones), the review app's and Airflow's: these and
    # pg_port come from wildwatch/ports.py (environment, else this checkout's last choice, else free ones).
    demo_port: int = 8701
    review_port: int = 8700
    airflow_port: int = 8080
    sites_dir: Path = PROJECT_ROOT / "sites"
    keywords_dir: Path = PROJECT_ROOT / "keywords"
    spool_dir: Path = PROJECT_ROOT / "var" / "spool"
    user_agent: str = "wildwatch/0.1 (+https://github.com/wildwatch/wildwatch; wildlife-trade monitoring)"
    queue_threshold: float = 1.0
    airflow_home: Path = PROJECT_ROOT / "var" / "airflow"
    # Saved real marketplace pages and the CITES index, used by tests when present (never copied in).
    realdata_dir: Path = PROJECT_ROOT.parent / "shared" / "realdata"
    # Airflow's own metadata database; defaults to a second database on the project's cluster.
    airflow_database_url: str | None = None
    # Evidence kept for candidates: a content-addressed folder; off only for benchmarks.
    evidence_dir: Path = PROJECT_ROOT / "var" / "evidence"
    # Where evidence, photos and referral packages are kept: the folder above, or s3://bucket[/prefix]
    # (WILDWATCH_EVIDENCE_STORE; the S3 server and keys: wildwatch/evidence/s3store.py).
    evidence_store: str = str(PROJECT_ROOT / "var" / "evidence")
    evidence_enabled: bool = True
    evidence_max_bytes: int = 5 * 1024 * 1024
    photos_per_listing: int = 8
    photo_max_bytes: int = 8 * 1024 * 1024
    screenshot_timeout_s: float = 20.0
    referrals_dir: Path = PROJECT_ROOT / "var" / "referrals"
    # Where `wildwatch backup` and the wildwatch_backup DAG write (a folder or s3://bucket/prefix), and how
    # many backups they keep; unset: the DAG has nothing to do and says so.
    backup_to: str | None = None
    backup_keep: int = 14
    reports_dir: Path = PROJECT_ROOT / "var" / "reports"
    # Search terms per crawl task: a site with more is split into shards that workers crawl side by side.
    shard_size: int = 50
    # Incremental surveys: a listing whose search card is unchanged is not fetched again until its last
    # detail fetch is this old (0: every survey fetches every listing page).
    refetch_after_days: int = 90
    # The ranker: below these many decisions (in all, and per class) the keyword score alone orders the queue.
    ranker_min_decisions: int = 50
    ranker_min_per_class: int = 10
    # Share of confirmed offers the ranker's queue threshold must keep (measured by cross-validation).
    ranker_recall_target: float = 0.95
    # Share of each analyst's queue items picked for what the model learns most from (the items it is least
    # sure of) rather than by score; the blind audit sample is apart from it and stays random.
    ranker_active_share: float = 0.2
    ranker_active_young: int = 400
    # The blind audit sample of unqueued listings, per monthly run: this share, at most this many.
    audit_share: float = 0.02
    # Seconds a survey spends reading text on its candidates' photos (one core); photos left over are read by
    # the next survey or `wildwatch photos read`.
    ocr_budget_s: float = 1800.0
    audit_cap: int = 100

    @property
    def manages_local_db(self) -> bool:
        return not self.database_url


def load() -> Settings:
    try:
        return _load()
    except ports.PortError as exc:
        raise ConfigError(str(exc)) from None


def _load() -> Settings:
    var_dir = _path("WILDWATCH_VAR_DIR", PROJECT_ROOT / "var")
    settings = Settings(
        env=os.environ.get("WILDWATCH_ENV", "development"),
        database_url=os.environ.get("WILDWATCH_DATABASE_URL") or None,
        var_dir=var_dir,
        pg_data=_path("WILDWATCH_PGDATA", var_dir / "pg"),
        pg_port=ports.get("pg", var_dir),
        demo_port=ports.get("demo", var_dir),
        review_port=ports.get("review", var_dir),
        airflow_port=ports.get("airflow", var_dir),
        sites_dir=_path("WILDWATCH_SITES_DIR", PROJECT_ROOT / "sites"),
        keywords_dir=_path("WILDWATCH_KEYWORDS_DIR", PROJECT_ROOT / "keywords"),
        spool_dir=_path("WILDWATCH_SPOOL_DIR", var_dir / "spool"),
        user_agent=os.environ.get("WILDWATCH_USER_AGENT", Settings.user_agent),
        queue_threshold=number("WILDWATCH_QUEUE_THRESHOLD", "1.0", float),
        airflow_home=_path("AIRFLOW_HOME", var_dir / "airflow"),
        realdata_dir=_path("WILDWATCH_REALDATA", PROJECT_ROOT.parent / "shared" / "realdata"),
        airflow_database_url=os.environ.get("WILDWATCH_AIRFLOW_DATABASE_URL") or None,
        evidence_dir=_path("WILDWATCH_EVIDENCE_DIR", var_dir / "evidence"),
        evidence_store=os.environ.get("WILDWATCH_EVIDENCE_STORE")
        or str(_path("WILDWATCH_EVIDENCE_DIR", var_dir / "evidence")),
        evidence_enabled=os.environ.get("WILDWATCH_EVIDENCE", "on").lower() not in ("off", "0", "false", "no"),
        evidence_max_bytes=number("WILDWATCH_EVIDENCE_MAX_BYTES", str(5 * 1024 * 1024)),
        photos_per_listing=number("WILDWATCH_PHOTOS_PER_LISTING", "8"),
        photo_max_bytes=number("WILDWATCH_PHOTO_MAX_BYTES", str(8 * 1024 * 1024)),
        screenshot_timeout_s=number("WILDWATCH_SCREENSHOT_TIMEOUT", "20", float),
        referrals_dir=_path("WILDWATCH_REFERRALS_DIR", var_dir / "referrals"),
        backup_to=os.environ.get("WILDWATCH_BACKUP_TO") or None,
        backup_keep=number("WILDWATCH_BACKUP_KEEP", "14"),
        reports_dir=_path("WILDWATCH_REPORTS_DIR", var_dir / "reports"),
        shard_size=number("WILDWATCH_SHARD_SIZE", "50"),
        refetch_after_days=number("WILDWATCH_REFETCH_AFTER_DAYS", "90"),
        ranker_min_decisions=number("WILDWATCH_RANKER_MIN_DECISIONS", "50"),
        ranker_min_per_class=number("WILDWATCH_RANKER_MIN_PER_CLASS", "10"),
        ranker_recall_target=number("WILDWATCH_RANKER_RECALL_TARGET", "0.95", float),
        ranker_active_share=number("WILDWATCH_RANKER_ACTIVE_SHARE", "0.2", float),
        ranker_active_young=number("WILDWATCH_RANKER_ACTIVE_YOUNG", "400"),
        audit_share=number("WILDWATCH_AUDIT_SHARE", "0.02", float),
        ocr_budget_s=number("WILDWATCH_OCR_BUDGET_SECONDS", "1800", float),
        audit_cap=number("WILDWATCH_AUDIT_CAP", "100"),
    )
    if not 0 < settings.ranker_recall_target <= 1 or not 0 <= settings.audit_share <= 1:
        raise ConfigError("WILDWATCH_RANKER_RECALL_TARGET must be in (0, 1] and WILDWATCH_AUDIT_SHARE in [0, 1]")
    if not 0 <= settings.ranker_active_share <= 1:
        raise ConfigError(f"WILDWATCH_RANKER_ACTIVE_SHARE must be in [0, 1], not {settings.ranker_active_share}")
    if settings.ranker_active_young < 0:
        raise ConfigError(f"WILDWATCH_RANKER_ACTIVE_YOUNG must be a number of decisions (0 or more), "
                          f"not {settings.ranker_active_young}")
    if settings.shard_size < 1:
        raise ConfigError(f"WILDWATCH_SHARD_SIZE must be a positive number of search terms, not {settings.shard_size}")
    if settings.env != "development":
        if settings.manages_local_db:
            raise ConfigError(
                f"WILDWATCH_ENV={settings.env}: set WILDWATCH_DATABASE_URL; the self-managed local "
                "PostgreSQL is for development only"
            )
        for name, url in (("WILDWATCH_DATABASE_URL", settings.database_url),
                          ("WILDWATCH_AIRFLOW_DATABASE_URL", settings.airflow_database_url)):
            password = urlsplit(url).password if url else None
            if url and (password is None or password.lower() in PLACEHOLDER_SECRETS):
                raise ConfigError(f"WILDWATCH_ENV={settings.env}: {name} has no real password")
        if settings.evidence_store.startswith("s3://") and \
                (os.environ.get("WILDWATCH_S3_SECRET_KEY") or "x").lower() in PLACEHOLDER_SECRETS:
            raise ConfigError(f"WILDWATCH_ENV={settings.env}: WILDWATCH_S3_SECRET_KEY is a placeholder")
    return settings
