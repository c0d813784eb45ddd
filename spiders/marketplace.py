"""The one generic marketplace spider: `scrapy crawl marketplace -a site=NAME`.

Everything site-specific comes from sites/NAME.yaml. Optional arguments: run_id (a crawl_runs id, set by
the Airflow DAG), groups (comma-separated product groups to search for), queries (comma-separated search
terms instead of the keyword lists), shard and shards (search only part K of N of the terms; see
wildwatch/shards.py).
"""
from __future__ import annotations

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy_playwright.page import PageMethod

from spiders import browser, quietlog
from spiders.signals import listing_page_failed
from spiders.extract import extract_detail, extract_search, next_search_url
from wildwatch import config, keywords
from wildwatch.incremental import card_hash, detail_item
from wildwatch import shards as sharding
from wildwatch.evidence.warc import PageCapture
from wildwatch.sites import load as load_site


class MarketplaceSpider(scrapy.Spider):
    name = "marketplace"

    def __init__(self, site: str | None = None, run_id: str | None = None, groups: str | None = None,
                 queries: str | None = None, shard: str = "0", shards: str = "1", **kwargs):
        super().__init__(**kwargs)
        if not site:
            raise ValueError("missing -a site=NAME (one of the files in sites/)")
        self.site = load_site(site)
        self.run_id = int(run_id) if run_id else None
        # A survey's run (the DAG passes its id) draws a blind audit sample afterwards; a crawl by hand does not.
        self.audited = bool(run_id)
        self.groups = [g for g in (groups or "").split(",") if g]
        self.queries = [q for q in (queries or "").split(",") if q]
        self.shard, self.shards = int(shard), int(shards)
        if not 0 <= self.shard < self.shards:
            raise ValueError(f"no shard {shard} of {shards}: shard counts from 0 and must be below shards")
        quietlog.install()
        self.failures = quietlog.FailureLog(self.logger)
        self.site_id: int | None = None  # set by the CrawlRunRecorder extension when the crawl opens
        self.keyword_ids: dict = {}
        self.abort_reason: str | None = None
        # Redirects and links off the site's own domain are dropped (Scrapy's OffsiteMiddleware).
        self.allowed_domains = [self.site.domain.removeprefix("www.")]

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        site = spider.site
        # Shards that run side by side share the site's budget: together they are as polite as one crawl.
        delay, concurrency = sharding.politeness(site, spider.shards)
        crawler.settings.set("DOWNLOAD_DELAY", delay, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", concurrency, priority="spider")
        if site.download_delay == 0:
            crawler.settings.set("AUTOTHROTTLE_START_DELAY", 0, priority="spider")
        if not site.autothrottle:
            crawler.settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        if site.needs_browser:
            for key, value in browser.settings().items():
                crawler.settings.set(key, value, priority="spider")
        return spider

    def search_terms(self) -> list[str]:
        if self.queries:
            terms = self.queries
        else:
            kb = keywords.load(config.load().keywords_dir)
            terms = [t.term for t in kb.search_queries(self.site.languages, self.groups)]
        return sharding.part(terms, self.shard, self.shards)

    def page_meta(self, wait_for: str | None, browser: bool | None = None) -> dict:
        if not (self.site.needs_browser if browser is None else browser):
            return {}
        methods = [PageMethod("wait_for_selector", wait_for, timeout=15_000)] if wait_for else []
        return {"playwright": True, "playwright_page_methods": methods}

    def capture_meta(self, meta: dict, spec, paging=None) -> dict:
        """Browser sites read from the JSON answers their pages receive (json.capture): see browser.JsonCapture."""
        if not (spec and spec.capture and meta):
            return meta
        clicking = paging is not None and paging.by == "click"
        answers = browser.JsonCapture(spec.capture, next_selector=paging.selector if clicking else None,
                                      pages=self.site.max_pages_per_query if clicking else 1,
                                      more=paging.more if clicking else None)
        meta["playwright_page_init_callback"] = answers.init
        meta["playwright_page_methods"] = [PageMethod(answers.wait), *meta["playwright_page_methods"]]
        meta["wildwatch_captured"] = answers.bodies
        meta["wildwatch_capture_note"] = answers.note
        return meta

    def search_meta(self) -> dict:
        search = self.site.search
        return self.capture_meta(self.page_meta(search.wait_for), search.json, search.paging)

    def detail_meta(self) -> dict:
        detail = self.site.detail
        return self.capture_meta(self.page_meta(detail.wait_for, detail.needs_browser), detail.json)

    async def start(self):
        if self.abort_reason:
            return
        for query in self.search_terms():
            url = self.site.search_url(query)
            yield scrapy.Request(url, callback=self.parse_search, errback=self.on_error, meta=self.search_meta(),
                                 headers=self.site.search.headers or None,
                                 cb_kwargs={"query": query, "page_no": 1, "seen": (url,)})

    def problem(self, kind: str, reason: str, url: str, n: int = 1) -> None:
        """A page or result the site file could not read, counted by reason for the run record."""
        stats = self.crawler.stats
        problems = stats.get_value("wildwatch/page_problems") or {}
        key = f"{kind}: {reason}"[:300]
        problems[key] = problems.get(key, 0) + n
        stats.set_value("wildwatch/page_problems", problems)
        self.logger.warning("%s on %s: %s", kind, url, reason)

    def parse_search(self, response, query: str, page_no: int, seen: tuple = ()):
        stats = self.crawler.stats
        captured = response.meta.get("wildwatch_captured")
        # A page paged in place (by click) read several answers: each counts as a search page.
        stats.inc_value("wildwatch/pages/search", max(1, len(captured or ())))
        for note in response.meta.get("wildwatch_capture_note") or ():
            self.problem("search page", note, response.url)
        page = extract_search(self.site, response, captured)
        stats.inc_value(f"wildwatch/query_results/{query}", len(page.results))
        if page.problem:
            self.problem("search page", page.problem, response.url)
        for reason, n in page.skipped.items():
            stats.inc_value(f"wildwatch/results_skipped/{reason}", n)
            self.problem("search page", reason, response.url, n)
        if page.layout_broken and not page.problem:
            # A redesign looks exactly like a month without offers: count it, the run records it.
            stats.inc_value("wildwatch/layout/empty_search_pages")
            self.logger.warning("no results and no 'no results' marker on %s: selectors may be stale",
                                response.url)
        for result in page.results:
            seed = {"site": self.site.name, "url": result["url"], "search_query": query,
                    "search_url": response.url, "language": self.site.languages[0],
                    **{k: v for k, v in result.items() if k not in ("url", "link", "_fetch")}}
            if self.site.detail:
                # The card's fingerprint lets the next survey skip this page while the card stays the same.
                seed["_card"] = card_hash(result)
                meta = {**self.detail_meta(), "listing_url": result["url"]}
                yield response.follow(result.get("_fetch") or result["url"], callback=self.parse_detail,
                                      errback=self.on_error, meta=meta, headers=self.site.detail.headers or None,
                                      cb_kwargs={"seed": seed})
            else:
                yield {**seed, "_page": PageCapture.from_response(response)}
        next_url = next_search_url(self.site, response, page, page_no)
        if next_url and next_url in seen:
            # A cursor or next-page address that comes round again would page forever.
            self.problem("search page", "paging repeated an address already read (a cursor that repeats?)",
                         response.url)
        elif next_url and page_no < self.site.max_pages_per_query:
            yield response.follow(next_url, callback=self.parse_search, errback=self.on_error,
                                  meta=self.search_meta(), headers=self.site.search.headers or None,
                                  cb_kwargs={"query": query, "page_no": page_no + 1, "seen": (*seen, next_url)})

    def parse_detail(self, response, seed: dict):
        self.crawler.stats.inc_value("wildwatch/pages/detail")
        fields = extract_detail(self.site, response, response.meta.get("wildwatch_captured"))
        if "_problem" in fields:
            # The search card stands in for the page: what was found is kept, and the run says why.
            self.problem("listing page", fields.pop("_problem"), response.url)
        for key in fields.pop("_structured", []):
            self.crawler.stats.inc_value(f"wildwatch/structured_fallback/{key}")
        item = detail_item(seed, fields)
        item["_page"] = PageCapture.from_response(response)
        item["_detail"] = {k: v for k, v in fields.items() if v}  # what the next survey may re-read
        if not fields.get("title") and not seed.get("title"):
            self.crawler.stats.inc_value("wildwatch/layout/empty_detail_pages")
        yield item

    def on_error(self, failure):
        if failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            # The crawler obeying the site's robots.txt is not a failed request (Scrapy counts it under
            # robotstxt/forbidden, which the run's record keeps).
            return
        self.crawler.stats.inc_value("wildwatch/request_errors")
        response = getattr(failure.value, "response", None)
        if response is not None:
            key = f"HTTP {response.status}"
        else:
            key = f"{failure.type.__name__}: {failure.getErrorMessage()}"[:200]
        errors = self.crawler.stats.get_value("wildwatch/error_reasons") or {}
        errors[key] = errors.get(key, 0) + 1
        self.crawler.stats.set_value("wildwatch/error_reasons", errors)
        self.failures.failed(failure.request.url, key)
        if "listing_url" in failure.request.meta:
            self.crawler.signals.send_catch_log(listing_page_failed, spider=self,
                                                url=failure.request.meta["listing_url"], reason=key)
