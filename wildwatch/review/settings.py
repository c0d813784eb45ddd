"""Review-app settings from the environment; placeholder secrets are refused outside development."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from wildwatch import config


@dataclass(frozen=True)
class ReviewSettings:
    secret_key: str
    session_max_age_s: int = 8 * 3600  # a session ends this long after login, however busy
    session_idle_s: int = 30 * 60  # ... or after this long without a request
    # Proxies whose X-Forwarded-For / -Proto are believed (addresses or networks); none: the peer's address.
    trusted_proxies: tuple[str, ...] = ()
    # A referral is approved by a supervisor other than the one who built it (off: one-person teams; audited).
    four_eyes: bool = True
    lease_s: int = 15 * 60
    # Share of items handed out for what the ranker learns most from once its model has learnt from
    # `active_young` decisions, more before (WILDWATCH_RANKER_ACTIVE_SHARE and _YOUNG; ranker/policy.py).
    active_share: float = 0.0
    active_young: int = 0
    https_only: bool = False
    database_url: str | None = None
    # A confirmation needs a second analyst's before it counts (exports, referrals).
    second_review: bool = False
    # How long an analyst may take back their latest decision (until their next one).
    undo_s: int = 30
    # None: from the environment (WILDWATCH_EVIDENCE_STORE or _DIR, WILDWATCH_REFERRALS_DIR), as the crawler writes them.
    evidence_dir: Path | None = None
    referrals_dir: Path | None = None
    reports_dir: Path | None = None


def load() -> ReviewSettings:
    base = config.load()
    key = os.environ.get("WILDWATCH_SECRET_KEY", "")
    if base.env != "development":
        if key.lower() in config.PLACEHOLDER_SECRETS or len(key) < 32:
            raise config.ConfigError("WILDWATCH_SECRET_KEY must be a random value of 32+ characters")
    elif not key:
        key = secrets.token_urlsafe(32)  # development: sessions end when the server restarts
    return ReviewSettings(secret_key=key,
                          session_max_age_s=config.number("WILDWATCH_SESSION_MAX_AGE", 8 * 3600),
                          session_idle_s=config.number("WILDWATCH_SESSION_IDLE", 30 * 60),
                          trusted_proxies=tuple(p.strip() for p in os.environ.get("WILDWATCH_TRUSTED_PROXIES", "").split(",")
                                                if p.strip()),
                          four_eyes=os.environ.get("WILDWATCH_REFERRAL_FOUR_EYES", "on").lower()
                          not in ("off", "0", "false", "no"),
                          lease_s=config.number("WILDWATCH_LEASE_SECONDS", 15 * 60),
                          active_share=base.ranker_active_share, active_young=base.ranker_active_young,
                          undo_s=config.number("WILDWATCH_UNDO_SECONDS", 30),
                          https_only=base.env != "development",
                          second_review=os.environ.get("WILDWATCH_SECOND_REVIEW", "off").lower() in ("on", "1", "true", "yes"))


def lifetimes() -> tuple[int, int]:
    """(idle, absolute) session lifetimes in seconds, from the environment without needing the secret key."""
    return (config.number("WILDWATCH_SESSION_IDLE", 30 * 60),
            config.number("WILDWATCH_SESSION_MAX_AGE", 8 * 3600))
