"""Queue a stored listing for human review: its keyword score reaches the threshold, or the active ranker
scores it at or above the model's threshold. With a model, the ranker's score is the queue priority."""
from __future__ import annotations

from pipelines.dbwriter import DatabaseWriter
from wildwatch import config

ENQUEUE = """
INSERT INTO review_queue (listing_id, run_id, priority, reason) VALUES (%s, %s, %s, %s)
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


def enqueue(conn, listing_id: int, run_id: int, priority: float, reason: str = "keywords") -> None:
    with conn.cursor() as cur:
        cur.execute(ENQUEUE, (listing_id, run_id, priority, reason))
        cur.execute("UPDATE sightings SET queued = true WHERE listing_id = %s AND run_id = %s",
                    (listing_id, run_id))


class ReviewQueuePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "enqueue")
        self.threshold = config.load().queue_threshold

    def _enqueue(self, conn, item):
        enqueue(conn, item["listing_id"], self.crawler.spider.run_id, *item["_queue"])

    async def process_item(self, item):
        decision = queue_reason(item, self.threshold)
        if item.get("spooled") or decision is None:
            return item
        item["_queue"] = decision
        if await self.write(item, self._enqueue):
            item["queued"] = True
            self.crawler.stats.inc_value("wildwatch/queued")
            if decision[1] == "ranker":
                self.crawler.stats.inc_value("wildwatch/queued_by_ranker")
        return item
