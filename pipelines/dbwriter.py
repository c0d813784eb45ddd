"""What the storing pipelines share: writes grouped into transactions off the crawl's thread, a connection
that survives server restarts, and a spool file that keeps every listing the database could not take, so a
lost database loses nothing collected."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path

import psycopg2

from wildwatch import config, db

log = logging.getLogger(__name__)


def _json_default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class DatabaseWriter:
    """Each item's write is its own function of (connection, item), with UPSERTs only. Writes are grouped
    (group commit): items queue while a batch is being written, and the next batch, up to BATCH_MAX items, goes
    in one transaction in a worker thread. Under load PostgreSQL sees one commit per batch; when the crawl is
    quiet a batch is one item, written at once; and the crawl's thread never waits on the database."""

    BATCH_MAX = 100

    def __init__(self, crawler, name: str):
        self.crawler, self.name = crawler, name
        self.url = db.database_url()
        self.conn = None
        self.spool_dir = config.load().spool_dir
        self.pending: list[tuple[dict, object, object, asyncio.Future]] = []
        self.flushing: asyncio.Task | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def close_spider(self):
        if self.flushing is not None:
            await self.flushing  # the last batch (a clean shutdown, SIGTERM included, waits for it)
        if self.conn is not None:
            self.conn.close()

    def _connection(self):
        if self.conn is None or self.conn.closed:
            self.conn = db.connect(self.url)
        return self.conn

    async def write(self, item, work, many=None) -> bool:
        """Run work(conn, item) in a transaction (shared with the other items of its batch); with `many`, the
        batch's items that share it are written by many(conn, items) at once (set-based statements), and one by
        one with `work` if that fails. What cannot be stored (the server stays away, or it rejects this item)
        goes to the spool with the reason."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.pending.append((item, work, many, done))
        if self.flushing is None:
            self.flushing = loop.create_task(self._flush())
        reason = await done
        if reason is None:
            return True
        self.spool(item, reason)
        return False

    async def _flush(self):
        try:
            while self.pending:
                batch, self.pending = self.pending[:self.BATCH_MAX], self.pending[self.BATCH_MAX:]
                self.crawler.stats.inc_value(f"wildwatch/db_batches/{self.name}")
                try:
                    reasons = await asyncio.to_thread(self._write_batch, [entry[:3] for entry in batch])
                except Exception as exc:  # noqa: BLE001 - a bug in a write must not hang the crawl
                    log.exception("%s: batch write failed", self.name)
                    reasons = [_first_line(exc)] * len(batch)
                for (*_, done), reason in zip(batch, reasons, strict=True):
                    if not done.done():
                        done.set_result(reason)
        finally:
            self.flushing = None

    def _write_batch(self, batch: list) -> list[str | None]:
        """In a worker thread: the batch in one transaction; None per item stored, else the reason. A lost
        connection is retried; an item the server rejects is found by writing the batch one item at a time."""
        reason = None
        for attempt in range(1, 4):
            try:
                conn = self._connection()
                with conn:
                    together: dict = {}
                    for item, work, many in batch:
                        if many is not None and len(batch) > 1:
                            together.setdefault(many, []).append(item)
                        else:
                            work(conn, item)
                    for many, items in together.items():
                        many(conn, items)
                return [None] * len(batch)
            except (psycopg2.OperationalError, psycopg2.InterfaceError, db.DatabaseUnavailable) as exc:
                reason = _first_line(exc)
                log.warning("%s: database connection lost (attempt %d): %s", self.name, attempt, reason)
                if self.conn is not None and not self.conn.closed:
                    self.conn.close()
                self.conn = None
            except psycopg2.Error as exc:  # an item, not the server: do not retry it
                if len(batch) > 1:
                    return [r for entry in batch for r in self._write_batch([entry])]
                reason = _first_line(exc)
                log.error("%s: database refused %s: %s", self.name, batch[0][0].get("url"), reason)
                break
        return [reason] * len(batch)

    def spool(self, item, reason: str | None = None, count: bool = True) -> None:
        spider = self.crawler.spider
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        path = Path(self.spool_dir) / f"run{spider.run_id}-{spider.site.name}.jsonl"
        # Keys starting with "_" hold what only this process can use (the raw page for evidence).
        record = {k: v for k, v in item.items() if k != "listing_id" and not k.startswith("_")}
        record["run_id"] = spider.run_id
        record["spool_reason"] = reason
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        if count:
            self.crawler.stats.inc_value("wildwatch/spooled")
        self.crawler.stats.set_value("wildwatch/spool_file", str(path))
        item["spooled"] = True
