"""What the storing pipelines share: a connection that survives one server restart, and a spool file
that keeps every listing the database could not take, so a lost database loses nothing collected."""
from __future__ import annotations

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
    def __init__(self, crawler, name: str):
        self.crawler, self.name = crawler, name
        self.url = db.database_url()
        self.conn = None
        self.spool_dir = config.load().spool_dir

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def close_spider(self):
        if self.conn is not None:
            self.conn.close()

    def _connection(self):
        if self.conn is None or self.conn.closed:
            self.conn = db.connect(self.url)
        return self.conn

    def write(self, item, work) -> bool:
        """Run work(conn, item) in one transaction. A lost connection is retried; what still cannot be
        stored (the server stays away, or it rejects this item) goes to the spool with the reason."""
        reason = None
        for attempt in range(1, 4):
            try:
                conn = self._connection()
                with conn:
                    work(conn, item)
                return True
            except (psycopg2.OperationalError, psycopg2.InterfaceError, db.DatabaseUnavailable) as exc:
                reason = _first_line(exc)
                log.warning("%s: database connection lost (attempt %d): %s", self.name, attempt, reason)
                if self.conn is not None and not self.conn.closed:
                    self.conn.close()
                self.conn = None
            except psycopg2.Error as exc:  # this item, not the server: do not retry it
                reason = _first_line(exc)
                log.error("%s: database refused %s: %s", self.name, item.get("url"), reason)
                break
        self.spool(item, reason)
        return False

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
