"""Score the listing with the active ranker model (none: the keyword score alone decides, as before)."""
from __future__ import annotations

import logging

from wildwatch import db

log = logging.getLogger(__name__)


class RankPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.model = None  # (version, Ranker)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        # Once per crawl: a model activated mid-crawl applies from the next crawl (and to the queue at once).
        try:
            with db.transaction() as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT EXISTS (SELECT 1 FROM ranker_models WHERE active)")
                    if not cur.fetchone()[0]:
                        return
                # Only now, and only the scorer: it reads the model without scikit-learn or SciPy, whose ~0.8 s
                # import every crawl process (one per site and shard) would pay (scorer.py).
                from wildwatch.ranker import scorer

                self.model = scorer.active(conn)
        except db.DatabaseUnavailable as exc:
            log.warning("ranker: no model loaded (%s); the keyword score decides", exc)
        except ValueError as exc:  # a model whose bytes fail their hash: crawl on, without it, and say so
            log.error("ranker: active model refused (%s); the keyword score decides", exc)
        if self.model:
            log.info("ranker: model v%s, queue threshold %.3f", self.model[0], self.model[1].threshold)

    def process_item(self, item):
        if not self.model:
            return item
        from wildwatch.ranker.features import Record, fact_tokens  # loaded by open_spider with the model

        version, ranker = self.model
        spider = self.crawler.spider
        record = Record(title=item["title"], description=item.get("description"), language=item.get("language"),
                        site=spider.site.name, country=spider.site.country,
                        price=float(item["price"]) if item.get("price") is not None else None,
                        currency=item.get("currency"), matches=item.get("matches", []),
                        keyword_score=item.get("score", 0.0))
        record.facts = fact_tokens(record)
        item["rank_score"] = ranker(record)
        item["rank_model"] = version
        item["rank_threshold"] = ranker.threshold
        return item
