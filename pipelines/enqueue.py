"""Queue a stored listing for human review when its score reaches the threshold."""
from __future__ import annotations

from pipelines.dbwriter import DatabaseWriter
from wildwatch import config

ENQUEUE = """
INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, %s)
ON CONFLICT (listing_id) DO UPDATE SET priority = EXCLUDED.priority WHERE review_queue.status = 'pending'
"""


def enqueue(conn, listing_id: int, run_id: int, priority: float) -> None:
    with conn.cursor() as cur:
        cur.execute(ENQUEUE, (listing_id, run_id, priority))
        cur.execute("UPDATE sightings SET queued = true WHERE listing_id = %s AND run_id = %s",
                    (listing_id, run_id))


class ReviewQueuePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "enqueue")
        self.threshold = config.load().queue_threshold

    def _enqueue(self, conn, item):
        enqueue(conn, item["listing_id"], self.crawler.spider.run_id, item["score"])

    def process_item(self, item):
        if item.get("spooled") or item["score"] < self.threshold:
            return item
        if self.write(item, self._enqueue):
            item["queued"] = True
            self.crawler.stats.inc_value("wildwatch/queued")
        return item
