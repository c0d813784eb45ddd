"""Replaying listings that a crawl spooled to disk while the database was unreachable."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from wildwatch import config, keywords, runs, sites

log = logging.getLogger(__name__)


def replay(conn, spool_dir: Path | None = None, threshold: float | None = None) -> dict:
    """Store and enqueue every spooled listing (UPSERTs: replaying twice changes nothing), then move
    each replayed file to spool/replayed/."""
    from pipelines.enqueue import enqueue, queue_reason
    from pipelines.store import store_listing
    from wildwatch.evidence import photos as photo_records
    from wildwatch.evidence.capture import record_capture

    settings = config.load()
    spool_dir = Path(spool_dir or settings.spool_dir)
    threshold = settings.queue_threshold if threshold is None else threshold
    done = {"files": 0, "listings": 0, "queued": 0}
    if not spool_dir.exists():
        return done
    keyword_ids = None
    site_ids: dict[str, int] = {}
    for path in sorted(spool_dir.glob("*.jsonl")):
        with conn:
            if keyword_ids is None:
                keyword_ids = runs.sync_keywords(conn, keywords.load(settings.keywords_dir))
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                name = item["site"]
                if name not in site_ids:
                    site_ids[name] = runs.upsert_site(conn, sites.load(name))
                listing_id = store_listing(conn, item, site_ids[name], item["run_id"], keyword_ids)
                done["listings"] += 1
                decision = queue_reason(item, threshold)
                if decision:
                    enqueue(conn, listing_id, item["run_id"], *decision)
                    done["queued"] += 1
                    if item.get("evidence"):
                        record_capture(conn, listing_id, item["run_id"], item["evidence"])
                    if item.get("photos"):
                        photo_records.record(conn, listing_id, item["run_id"], item["photos"])
        target = spool_dir / "replayed" / path.name
        target.parent.mkdir(exist_ok=True)
        path.rename(target)
        done["files"] += 1
        log.info("replayed %s", path)
    return done
