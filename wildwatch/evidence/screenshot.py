"""Full-page screenshots rendered from the captured response itself: scripts off and every network
request refused, so the picture shows exactly the archived bytes (for browser pages, the DOM after the
page's scripts ran) and rendering it cannot call the marketplace, or anyone else, again."""
from __future__ import annotations

import asyncio

from spiders.browser import CHROMIUM_ARGS, chromium_path


class ScreenshotError(RuntimeError):
    pass


class Renderer:
    """One headless Chromium per crawl, started on the first screenshot; a fresh context per page."""

    def __init__(self, timeout_s: float = 20.0, width: int = 1280, max_height: int = 16_000, parallel: int = 4):
        self.timeout_s, self.width, self.max_height = timeout_s, width, max_height
        self._pw = None
        self._browser = None
        self._context = None
        # Scrapy hands over many items at once: one launch, and a few pages at a time, or they all time out.
        self._launch_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(parallel)

    async def _ensure(self):
        async with self._launch_lock:
            if self._browser is None:
                from playwright.async_api import async_playwright

                self._pw = await async_playwright().start()
                self._browser = await self._pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                                               args=CHROMIUM_ARGS)
                # One context (scripts off, every request refused) shared by the pages: no storage survives
                # between them that matters, as no script runs and nothing is fetched.
                self._context = await self._browser.new_context(
                    java_script_enabled=False, viewport={"width": self.width, "height": 900}, service_workers="block")
                await self._context.route("**/*", _refuse)
        return self._browser

    async def screenshot(self, html: bytes, url: str) -> bytes:
        try:
            await self._ensure()
            async with self._slots:
                return await asyncio.wait_for(self._render(html, url), self.timeout_s)
        except asyncio.TimeoutError as exc:
            raise ScreenshotError(f"screenshot timed out after {self.timeout_s:g} s") from exc
        except ScreenshotError:
            raise
        except Exception as exc:  # Playwright's errors: a crashed or missing browser
            raise ScreenshotError(f"screenshot failed: {str(exc).splitlines()[0] if str(exc) else exc!r}") from exc

    async def _render(self, html: bytes, url: str) -> bytes:
        await self._ensure()
        page = await self._context.new_page()
        try:
            # Decoded as the browser would for a page served as UTF-8; the WARC keeps the raw bytes.
            await page.set_content(html.decode("utf-8", errors="replace"), wait_until="domcontentloaded")
            height = await page.evaluate("document.documentElement.scrollHeight")
            if height > self.max_height:
                await page.set_viewport_size({"width": self.width, "height": self.max_height})
                return await page.screenshot(type="png")
            return await page.screenshot(type="png", full_page=True)
        finally:
            await page.close()

    async def close(self):
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None


async def _refuse(route):
    await route.abort()
