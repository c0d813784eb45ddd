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
    page, and the bodies of the answers its scripts receive from addresses containing `address_part` are kept
    for the site file's JSON paths. One per request (scrapy-playwright's page init callback and a page method
    that waits for the answers). Bodies are read in a route handler, before the page's scripts see them.

    With `next_selector` (paging by click) the page is paged in place: the control is clicked and the next
    answer awaited, up to `pages` answers, until `more` (a path on the last answer) says it was the last or
    the control is gone. `note` says why paging stopped early, for the run record."""

    def __init__(self, address_part: str, timeout_s: float = 15.0, next_selector: str | None = None,
                 pages: int = 1, more: str | None = None):
        self.address_part, self.timeout_s = address_part, timeout_s
        self.next_selector, self.pages, self.more = next_selector, max(1, pages), more
        self.bodies: list[bytes] = []
        self.received = 0
        self.note: list[str] = []  # a list so that the spider's copy of the request meta sees it
        self._arrived = None

    async def init(self, page, request):
        import asyncio

        self._arrived = asyncio.Event()

        async def keep(route):
            try:
                answer = await route.fetch()
                body = await answer.body()
            except Exception:  # noqa: BLE001 - the page's own request failed: let the page see it fail too
                await route.continue_()
                return
            if sum(map(len, self.bodies)) + len(body) <= MAX_CAPTURED:
                self.bodies.append(body)
            self.received += 1
            self._arrived.set()
            await route.fulfill(response=answer, body=body)

        await page.route(lambda url: self.address_part in url, keep)

    async def _answer_after(self, seen: int) -> bool:
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while self.received <= seen:
            self._arrived.clear()
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                return False
        return True

    def _last_says_more(self) -> bool:
        from spiders import jsondata

        if not self.more:
            return True
        try:
            return bool(jsondata.search(self.more, jsondata.parse_body(self.bodies[-1])))
        except (jsondata.JsonUnreadable, IndexError):
            return False

    async def wait(self, page):
        """A page method: the page is read once its answers came (or the wait ran out: nothing captured, which
        the spider records)."""
        if self._arrived is None or not await self._answer_after(0):
            return
        for _ in range(self.pages - 1):
            if not self.next_selector or not self._last_says_more():
                return
            try:
                control = await page.query_selector(self.next_selector)
                if control is None or not await control.is_enabled():
                    if self.more:  # the answer says there is more, but the page shows no way to it: a redesign?
                        self.note.append(f"the next-page control {self.next_selector!r} was not on the page")
                    return
                seen = self.received
                await control.click(timeout=self.timeout_s * 1000)
            except Exception as exc:  # noqa: BLE001 - a control covered, detached or slow: what was read is kept
                self.note.append(f"the next-page control could not be clicked: {type(exc).__name__}")
                return
            if not await self._answer_after(seen):
                self.note.append("no answer came after clicking the next-page control")
                return
