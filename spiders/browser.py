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


def capture_json(address_part: str):
    """A page-init callback (scrapy-playwright's playwright_page_init_callback) that keeps the bodies of the
    answers the page's own scripts receive from addresses containing `address_part`, for sites that sign their
    API requests in the page's script (Xianyu): the browser makes the request, the site file reads the JSON.
    Bodies are read in a route handler, so they are kept before the page's scripts see them."""

    async def init(page, request):
        captured = request.meta.setdefault("wildwatch_captured", [])

        async def keep(route):
            try:
                answer = await route.fetch()
                body = await answer.body()
            except Exception:  # noqa: BLE001 - the page's own request failed: let the page see it fail too
                await route.continue_()
                return
            if sum(map(len, captured)) + len(body) <= MAX_CAPTURED:
                captured.append(body)
            await route.fulfill(response=answer, body=body)

        await page.route(lambda url: address_part in url, keep)

    return init
