"""The listing's own language, detected from its text; the site's first language only for text too short to tell."""
from __future__ import annotations

from pipelines import CrawlerPipeline

from wildwatch.language import detect, warm_up


class LanguagePipeline(CrawlerPipeline):
    def open_spider(self):
        warm_up()  # the model (~0.5 s to load) before the first page, not on it

    def process_item(self, item):
        site = self.crawler.spider.site
        text = " ".join(t for t in (item.get("title"), (item.get("description") or "")[:1000]) if t)
        item["language"] = detect(text, site.languages)
        self.crawler.stats.inc_value(f"wildwatch/language/{item['language']}")
        return item
