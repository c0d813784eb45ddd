"""Contact identifiers in the listing's title, description and seller fields (wildwatch/contacts.py): phones
read with the site's country as the default region, the marketplace's own links left out."""
from __future__ import annotations

from pipelines import CrawlerPipeline

from wildwatch import contacts


class ContactsPipeline(CrawlerPipeline):
    def process_item(self, item):
        site = self.crawler.spider.site
        found = contacts.from_listing(item, site.country, item.get("language"), site.domain.removeprefix("www."))
        item["contacts"] = [contacts.as_row(c) for c in found]
        for c in found:
            self.crawler.stats.inc_value(f"wildwatch/contacts/{c.kind}")
        return item
