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
