"""Scrapy settings shared by every site. A site's own politeness and browser needs are merged in by the
spider from its site file (spiders/marketplace.py)."""
from scrapy.settings import default_settings as _scrapy_defaults

from wildwatch import config

_settings = config.load()

BOT_NAME = "wildwatch"
# The modules that define spiders, named one by one: Scrapy imports every module of a package it is given,
# and the browser's download handler alone (Playwright) costs every crawl process ~0.15 s to import.
SPIDER_MODULES = ["spiders.marketplace", "spiders.takedown"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = _settings.user_agent
ROBOTSTXT_OBEY = True

# Polite by default; site files may lower the delay for their own servers only.
DOWNLOAD_DELAY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
COOKIES_ENABLED = False
# Scrapy starts CONCURRENT_ITEMS tasks for every response's output, even a detail page's single item: at the
# default 100 that was ~20% of a CPU-bound crawl's time (bench/crawl.py). Our pages yield one item, or a
# search page's ~50 requests (scheduled in microseconds); items wait on the database in batches, not here.
CONCURRENT_ITEMS = 8

# No local listeners from a crawl (see shared stack notes).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.language.LanguagePipeline": 150,
    "pipelines.match.KeywordMatchPipeline": 200,
    "pipelines.contacts.ContactsPipeline": 220,
    "pipelines.rank.RankPipeline": 250,
    "pipelines.store.PostgresStorePipeline": 300,
    "pipelines.enqueue.ReviewQueuePipeline": 400,
    "pipelines.evidence.EvidencePipeline": 500,
    "pipelines.photos.PhotosPipeline": 550,
}
DOWNLOADER_MIDDLEWARES = {
    # before RetryMiddleware (550) sees the response: honour the site's Retry-After first
    "spiders.middlewares.RetryAfterMiddleware": 560,
}
RETRY_AFTER_MAX_WAIT = 600
SPIDER_MIDDLEWARES = {
    "spiders.middlewares.KnownListingFilter": 950,  # sees what callbacks yield first
}
EXTENSIONS = {
    "spiders.crawlrun.CrawlRunRecorder": 500,
}
# The two listeners switched off above are left out of Scrapy's own list as well: Scrapy imports every listed
# extension, even one set to None, and these two pull in aiohttp and Twisted's telnet (~0.15 s of every crawl
# process's start).
EXTENSIONS_BASE = {name: order for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
                   if name not in ("scrapy.extensions.telnet.TelnetConsole",
                                   "scrapy.extensions.remote_control.RemoteControl")}

# Browser pages (only for sites with needs_browser: true; see spiders/browser.py).
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# A fresh browser every N rendered pages keeps Chromium's memory flat over long crawls (bench/crawl.py).
WILDWATCH_BROWSER_RESTART_EVERY = 100

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
