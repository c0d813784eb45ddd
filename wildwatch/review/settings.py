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
    session_max_age_s: int = 8 * 3600
    lease_s: int = 15 * 60
    https_only: bool = False
    database_url: str | None = None
    # A confirmation needs a second analyst's before it counts (exports, referrals).
    second_review: bool = False
    # How long an analyst may take back their latest decision (until their next one).
    undo_s: int = 30
    # None: from the environment (WILDWATCH_EVIDENCE_DIR, WILDWATCH_REFERRALS_DIR), as the crawler writes them.
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
                          session_max_age_s=int(os.environ.get("WILDWATCH_SESSION_MAX_AGE", 8 * 3600)),
                          lease_s=int(os.environ.get("WILDWATCH_LEASE_SECONDS", 15 * 60)),
                          undo_s=int(os.environ.get("WILDWATCH_UNDO_SECONDS", 30)),
                          https_only=base.env != "development",
                          second_review=os.environ.get("WILDWATCH_SECOND_REVIEW", "off").lower() in ("on", "1", "true", "yes"))
