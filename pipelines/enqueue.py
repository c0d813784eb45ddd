"""Queue a stored listing for human review: its keyword score reaches the threshold, or the active ranker
scores it at or above the model's threshold. With a model, the ranker's score is the queue priority."""
from __future__ import annotations

from psycopg2.extras import execute_values

from pipelines.dbwriter import DatabaseWriter
from wildwatch import config
from wildwatch.ranker import audit

ENQUEUE = """
INSERT INTO review_queue (listing_id, run_id, priority, reason) VALUES %s
ON CONFLICT (listing_id) DO UPDATE SET priority = EXCLUDED.priority WHERE review_queue.status = 'pending'
"""


def queue_reason(item: dict, threshold: float) -> tuple[float, str] | None:
    """(priority, why) when the listing belongs in the queue, else None."""
    ranked = item.get("rank_score") is not None
    priority = item["rank_score"] if ranked else item.get("score", 0.0)
    if item.get("score", 0.0) >= threshold:
        return priority, "keywords"
    if ranked and item["rank_score"] >= item.get("rank_threshold", 1.0):
        return priority, "ranker"
    return None


def enqueue_many(conn, run_id: int, entries: list[tuple[int, float, str]]) -> None:
    """(listing id, priority, reason) into the queue and their sightings marked queued, in two statements. A
    listing twice in one call is refused by PostgreSQL (the writer then goes item by item)."""
    with conn.cursor() as cur:
        execute_values(cur, ENQUEUE, [(lid, run_id, priority, reason) for lid, priority, reason in entries],
                       page_size=len(entries))
        cur.execute("UPDATE sightings SET queued = true WHERE run_id = %s AND listing_id = ANY(%s)",
                    (run_id, [lid for lid, _, _ in entries]))


def enqueue(conn, listing_id: int, run_id: int, priority: float, reason: str = "keywords") -> None:
    enqueue_many(conn, run_id, [(listing_id, priority, reason)])


class ReviewQueuePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "enqueue")
        settings = config.load()
        self.threshold = settings.queue_threshold
        self.audit_share = settings.audit_share

    def _enqueue(self, conn, item):
        self._enqueue_many(conn, [item])

    def _enqueue_many(self, conn, items):
        enqueue_many(conn, self.crawler.spider.run_id, [(item["listing_id"], *item["_queue"]) for item in items])

    async def process_item(self, item):
        decision = queue_reason(item, self.threshold)
        if decision is None:
            # The run's blind audit sample may draw it: its evidence and photos are kept as a candidate's are.
            spider = self.crawler.spider
            item["audit_eligible"] = getattr(spider, "audited", False) and \
                audit.eligible(spider.run_id, item["url"], self.audit_share)
        if item.get("spooled") or decision is None:
            return item
        item["_queue"] = decision
        if await self.write(item, self._enqueue, self._enqueue_many):
            item["queued"] = True
            self.crawler.stats.inc_value("wildwatch/queued")
            if decision[1] == "ranker":
                self.crawler.stats.inc_value("wildwatch/queued_by_ranker")
        return item
