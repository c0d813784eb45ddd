"""Settings merged into a crawl when its site needs a browser: scrapy-playwright with the system Chromium."""
from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these Chromium keeps trying to reach Google's hosts.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
BLOCKED_RESOURCES = {"image", "font", "media"}


def chromium_path() -> str:
    path = os.environ.get("WILDWATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("this site needs a browser but Chromium is not installed: "
                           "apt-get install chromium fonts-noto-cjk (or set WILDWATCH_CHROMIUM)")
    return path


def abort_heavy_requests(request) -> bool:
    return request.resource_type in BLOCKED_RESOURCES


def settings() -> dict:
    return {
        "DOWNLOAD_HANDLERS": {
            "http": "spiders.browser_handler.RecyclingPlaywrightHandler",
            "https": "spiders.browser_handler.RecyclingPlaywrightHandler",
        },
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": chromium_path(), "headless": True,
                                      "args": CHROMIUM_ARGS},
        "PLAYWRIGHT_ABORT_REQUEST": abort_heavy_requests,
    }


MAX_CAPTURED = 8 * 1024 * 1024  # bytes of JSON answers kept per page (as DOWNLOAD_MAXSIZE for pages)


class JsonCapture:
    """For sites that sign their API requests in the page's own script (Xianyu): the browser loads the public
    search page, and the bodies of the answers its scripts receive from addresses containing `address_part`
    are kept for the site file's JSON paths. One per request (scrapy-playwright's page init callback and a
    page method that waits for the first answer). Bodies are read in a route handler, before the page's
    scripts see them."""

    def __init__(self, address_part: str, timeout_s: float = 15.0):
        self.address_part, self.timeout_s = address_part, timeout_s
        self.bodies: list[bytes] = []
        self._got = None

    async def init(self, page, request):
        import asyncio

        self._got = asyncio.Event()

        async def keep(route):
            try:
                answer = await route.fetch()
                body = await answer.body()
            except Exception:  # noqa: BLE001 - the page's own request failed: let the page see it fail too
                await route.continue_()
                return
            if sum(map(len, self.bodies)) + len(body) <= MAX_CAPTURED:
                self.bodies.append(body)
            self._got.set()
            await route.fulfill(response=answer, body=body)

        await page.route(lambda url: self.address_part in url, keep)

    async def wait(self, page):
        """A page method: the page is read once its first answer came (or the wait ran out: nothing captured,
        which the spider records)."""
        import asyncio

        if self._got is None:
            return
        try:
            await asyncio.wait_for(self._got.wait(), self.timeout_s)
        except asyncio.TimeoutError:
            pass
