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
        """Run work(conn, item) in one transaction; on a lost server try once more, then spool."""
        for attempt in (1, 2):
            try:
                conn = self._connection()
                with conn:
                    work(conn, item)
                return True
            except (psycopg2.OperationalError, psycopg2.InterfaceError, db.DatabaseUnavailable) as exc:
                log.warning("%s: database error (attempt %d): %s", self.name, attempt,
                            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                if self.conn is not None and not self.conn.closed:
                    self.conn.close()
                self.conn = None
        self.spool(item)
        return False

    def spool(self, item) -> None:
        spider = self.crawler.spider
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        path = Path(self.spool_dir) / f"run{spider.run_id}-{spider.site.name}.jsonl"
        record = {k: v for k, v in item.items() if k != "listing_id"}
        record["run_id"] = spider.run_id
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        self.crawler.stats.inc_value("wildwatch/spooled")
        self.crawler.stats.set_value("wildwatch/spool_file", str(path))
        item["spooled"] = True
