"""scrapy-playwright's download handler, restarting the browser every N pages: Chromium's memory grows over
thousands of pages (scrapy-playwright issues #126, #183, #240), a fresh browser every N pages keeps it flat.

The restart waits for the pages in flight to finish and holds new ones meanwhile, so no request is lost."""
from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from playwright.async_api import Error as PlaywrightError
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

log = logging.getLogger(__name__)


class RecyclingPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.restart_every = crawler.settings.getint("WILDWATCH_BROWSER_RESTART_EVERY", 100)
        self._pages = 0
        self._in_flight = 0
        self._restarting = False
        self._restarted = asyncio.Event()
        self._restarted.set()

    async def _download_request(self, request, spider=None):
        while self._restarting:
            await self._restarted.wait()
        if self.restart_every and self._pages >= self.restart_every:
            await self._restart()
        self._pages += 1
        self._in_flight += 1
        try:
            return await super()._download_request(request, spider)
        finally:
            self._in_flight -= 1

    async def _restart(self) -> None:
        self._restarting = True
        self._restarted.clear()
        try:
            while self._in_flight:
                await asyncio.sleep(0.02)
            with suppress(PlaywrightError):
                await asyncio.gather(*[ctx.context.close() for ctx in self.context_wrappers.values()])
            self.context_wrappers.clear()
            if hasattr(self, "browser"):
                browser = self.browser
                del self.browser  # the next page launches a new one (_maybe_launch_browser)
                # Its "disconnected" handler would otherwise tear down the next browser's contexts.
                browser.remove_listener("disconnected", self._browser_disconnected_callback)
                with suppress(PlaywrightError):
                    await browser.close()
            self.stats.inc_value("wildwatch/browser_restarts")
            log.info("browser restarted after %d pages", self._pages)
            self._pages = 0
        finally:
            self._restarting = False
            self._restarted.set()
