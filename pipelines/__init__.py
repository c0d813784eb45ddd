"""Item pipelines, in the order spiders/settings.py gives them."""


class CrawlerPipeline:
    """A pipeline that needs only the crawler (its spider's site, its stats)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)
