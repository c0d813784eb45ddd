"""Find wildlife keywords in the listing's title and description and score the listing."""
from __future__ import annotations

import gc

from wildwatch import config, keywords, matching


class KeywordMatchPipeline:
    def __init__(self, matcher: matching.Matcher):
        self.matcher = matcher

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(matching.Matcher(keywords.load(config.load().keywords_dir)))
        # The matcher's automata and term objects (tens of thousands with large lists) live as long as the
        # crawl: out of the collector's sight, they are not rescanned on every collection (bench/matching.py).
        gc.freeze()
        return pipeline

    def process_item(self, item):
        found = self.matcher.match_listing(item.get("title"), item.get("description"))
        result = matching.score(found)
        item["matches"] = [dict(vars(m)) for m in found]  # flat fields: no deep copy (dataclasses.asdict)
        item["score"] = result.value
        item["score_reasons"] = result.reasons
        return item
