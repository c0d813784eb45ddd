"""The demo marketplaces: one small HTTP server per site, each on its own port (so each has its own
robots.txt), serving generated listings. Used by `make demo` and by the tests."""
from __future__ import annotations

import collections
import json
import logging
import re
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from wildwatch.demo import generator, photos, skins

log = logging.getLogger(__name__)

ROBOTS_TXT = "User-agent: *\nDisallow: /account/\nDisallow: /cart\n"
DEFAULT_BASE_PORT = 8701
SITE_ORDER = ("demo_cn", "demo_vn", "demo_cm", "demo_tz", "demo_rao", "demo_forum")
REMOVED_WITH_NOTICE = {"demo_vn", "demo_cm"}


def _page_number(params) -> int:
    return _whole(params, "page", 1, 1)


def _whole(params, name: str, default: int, low: int = 0) -> int:
    try:
        return max(low, min(int(params.get(name, [str(default)])[0]), 10**6))
    except ValueError:
        return default


class DemoHandler(BaseHTTPRequestHandler):
    site: generator.DemoSite  # set on the per-site subclass
    latency_s: float = 0.0  # benchmarks: answer as slowly as a real site over the network
    server_version = "DemoMarket/1.0"

    def log_message(self, fmt, *args):  # keep test output quiet; keep a debug trail
        log.debug("%s %s", self.site.name, fmt % args)

    def _send(self, body: str | bytes, content_type="text/html; charset=utf-8", status=HTTPStatus.OK):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a crawl closing, a browser restarted): nothing to answer

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.latency_s:
            time.sleep(self.latency_s)
        url = urlsplit(self.path)
        with self.site_log.lock:
            self.site_log.paths[url.path] += 1
        params = parse_qs(url.query)
        site = self.site
        if url.path == "/robots.txt":
            return self._send(ROBOTS_TXT, "text/plain; charset=utf-8")
        if url.path == "/":
            return self._send(skins.page(site, site.title, f"<h1>{site.title}</h1>"))
        if (site.api or site.forum) and self._api_or_forum(url, params):
            return None
        if url.path == "/search":
            query = params.get("q", [""])[0]
            if site.javascript:
                return self._send(skins.search_shell_cn(site, query))
            hits = generator.search(site, query)
            page_no, pages = _page_number(params), generator.page_count(len(hits))
            chunk = hits[(page_no - 1) * generator.PAGE_SIZE: page_no * generator.PAGE_SIZE]
            ad = site.listings[(page_no * 7) % len(site.listings)]
            return self._send(skins.SEARCH_PAGES[site.name](site, query, chunk, page_no, pages, ad))
        if url.path == "/api/search" and site.javascript:
            query = params.get("q", [""])[0]
            hits = generator.search(site, query)
            page_no, pages = _page_number(params), generator.page_count(len(hits))
            chunk = hits[(page_no - 1) * generator.PAGE_SIZE: page_no * generator.PAGE_SIZE]
            payload = {"page": page_no, "pages": pages, "promo": site.listings[0].title,
                       "items": [{"url": skins.item_href(x, query), "title": x.title,
                                  "price": skins.money(x.price, x.currency), "location": x.location}
                                 for x in chunk]}
            return self._send(json.dumps(payload, ensure_ascii=False), "application/json; charset=utf-8")
        if url.path == "/static/search.js":
            js = resources.files("wildwatch.demo").joinpath("static/search.js").read_bytes()
            return self._send(js, "application/javascript; charset=utf-8")
        if url.path.startswith("/item/"):
            listing = site.get(url.path.rsplit("/", 1)[1])
            if listing and listing.id in site.broken:
                return self._send(skins.page(site, "500", "<h1>Internal Server Error</h1>"),
                                  status=HTTPStatus.INTERNAL_SERVER_ERROR)
            if listing and listing.id in site.removed:
                # Platforms differ: some keep the page with a notice, some answer 410 Gone.
                status = HTTPStatus.OK if site.name in REMOVED_WITH_NOTICE else HTTPStatus.GONE
                return self._send(skins.removed_page(site), status=status)
            if listing:
                return self._send(skins.detail_page(site, listing))
        if url.path.startswith("/img/"):
            m = re.fullmatch(r"/img/([a-z]+\d+)-(\d)\.jpg", url.path)
            listing = site.get(m.group(1)) if m else None
            if listing:
                return self._send(photos.for_listing(listing, int(m.group(2))), "image/jpeg")
        return self._send(skins.page(site, "404", "<h1>404</h1>"), status=HTTPStatus.NOT_FOUND)


    def _api_or_forum(self, url, params) -> bool:
        """Answers the JSON site's and the forum's own addresses; False for the others."""
        site = self.site
        query = params.get("q" if site.api else "kw", [""])[0]
        size = generator.PAGE_SIZE
        if site.api and url.path == "/v1/ads":
            offset = _whole(params, "o", 0)
            hits = generator.search(site, query)[offset:offset + min(_whole(params, "limit", size, 1), size)]
            promoted = site.listings[(offset // size * 7) % len(site.listings)]
            return self._sent(json.dumps(skins.ads_answer(site, hits, promoted), ensure_ascii=False),
                              "application/json; charset=utf-8")
        m = re.fullmatch(r"/v1/ads/(\d+)|/(\d+)\.htm", url.path)
        if site.api and m:
            listing = site.get(skins.rao_id(int(m.group(1) or m.group(2))))
            if listing is None or listing.id in site.removed:
                return self._sent(json.dumps({"message": "not found"}), "application/json; charset=utf-8",
                                  status=HTTPStatus.NOT_FOUND)
            if listing.id in site.broken:
                return self._sent("{", "application/json; charset=utf-8", status=HTTPStatus.INTERNAL_SERVER_ERROR)
            if m.group(2):
                return self._sent(skins.ad_page(site, listing))
            return self._sent(json.dumps(skins.ad_answer(listing), ensure_ascii=False), "application/json; charset=utf-8")
        if site.forum and url.path == "/f":
            offset = _whole(params, "pn", 0)
            hits = generator.search(site, query)[offset:offset + size]
            return self._sent(skins.forum_list(site, query, hits, offset))
        m = re.fullmatch(r"/p/(\d+)", url.path)
        if site.forum and m:
            listing = next((x for x in site.listings if skins.thread_id(x) == int(m.group(1))), None)
            if listing is None or listing.id in site.removed:
                return self._sent(skins.removed_page(site), status=HTTPStatus.NOT_FOUND)
            if listing.id in site.broken:
                return self._sent(skins.page(site, "500", "<h1>500</h1>"), status=HTTPStatus.INTERNAL_SERVER_ERROR)
            return self._sent(skins.thread_page(site, listing))
        return False

    def _sent(self, *args, **kwargs) -> bool:
        self._send(*args, **kwargs)
        return True


class RequestLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.paths: collections.Counter = collections.Counter()

    def take(self) -> collections.Counter:
        """The requests counted so far, and a fresh count from now."""
        with self.lock:
            taken, self.paths = self.paths, collections.Counter()
        return taken


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops connections under a crawler's bursts


class DemoMarketplaces:
    """Starts every demo site on consecutive ports from base_port (0: any free ports)."""

    def __init__(self, host: str = "127.0.0.1", base_port: int = DEFAULT_BASE_PORT, latency_s: float = 0.0):
        self.host, self.base_port, self.latency_s = host, base_port, latency_s
        self.sites = generator.generate()
        self.servers: dict[str, ThreadingHTTPServer] = {}
        # What each site was asked for (path -> requests): tests and benchmarks count a crawl's requests.
        self.served = {name: RequestLog() for name in self.sites}
        self._prices: dict[tuple[str, str], int] = {}

    def start(self) -> dict[str, str]:
        for i, name in enumerate(SITE_ORDER):
            handler = type(f"Handler_{name}", (DemoHandler,), {"site": self.sites[name], "latency_s": self.latency_s,
                                                               "site_log": self.served[name]})
            port = self.base_port + i if self.base_port else 0
            server = _Server((self.host, port), handler)
            threading.Thread(target=server.serve_forever, name=f"demo-{name}", daemon=True).start()
            self.servers[name] = server
        return self.urls()

    def remove(self, site: str, listing_ids) -> None:
        """Take listings down, as a platform does after a referral."""
        unknown = [i for i in listing_ids if self.sites[site].get(i) is None]
        if unknown:
            raise KeyError(f"{site} has no listings {unknown}")
        self.sites[site].removed.update(listing_ids)

    def break_pages(self, site: str, listing_ids) -> None:
        """These listings' pages answer 500 (they stay in search results), as a faulty platform's do."""
        self.sites[site].broken.update(listing_ids)

    def reprice(self, site: str, listing_id: str, price: int) -> None:
        """A seller changes a listing's price (its search card changes with it)."""
        listing = self.sites[site].get(listing_id)
        self._prices.setdefault((site, listing_id), listing.price)
        listing.price = price

    def next_month(self) -> None:
        """The sellers' next month: the catalog's `next_month` listings go up on every site."""
        for site in self.sites.values():
            site.next_month()

    def restore(self) -> None:
        """Back to the first month, nothing taken down."""
        for site in self.sites.values():
            site.removed.clear()
            site.broken.clear()
            site.first_month()
        for (site, listing_id), price in self._prices.items():
            self.sites[site].get(listing_id).price = price
        self._prices.clear()

    def urls(self) -> dict[str, str]:
        return {name: f"http://{self.host}:{s.server_address[1]}" for name, s in self.servers.items()}

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        self.servers.clear()
