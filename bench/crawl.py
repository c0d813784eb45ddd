"""Crawl throughput over a 2,000-listing demo marketplace, all in one run of this script:

(a) the full pipeline: `scrapy crawl marketplace` (parse, normalise, match, store, queue, evidence), without
    candidates' photos, and (p, p') with them from an image host and from the site's own host (what photos
    cost, in listing pages per second);
(b) a bare Scrapy spider with the same selectors that only parses (no pipelines, no database), with Scrapy's
    defaults and (b') with our crawl's CONCURRENT_ITEMS (a setting that speeds any spider);
(c) a sequential requests + BeautifulSoup loop over the same pages;
(j) a JSON site (demo_rao: search answers paged by offset, one item answer per listing), the full pipeline
    against (j') a bare Scrapy spider parsing the same answers with the same paths;
and the browser path (the same site rendered in Chromium through scrapy-playwright): pages/s and the
browser's memory (PSS of all Chromium processes, peak) over 100 and over 2,000 pages.

Writes into a scratch database on the project's own PostgreSQL (bench/scratch.py), never the survey's.
Each crawl kind runs --repeat times, taking turns; medians are compared.
Run: .venv/bin/python bench/crawl.py [--listings 2000] [--latency-ms 50] [--repeat 3] [--skip-browser]
     [--kinds a,b,j,j']  (only those crawl kinds)
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402
from wildwatch.demo import generator, photos  # noqa: E402
from wildwatch.demo.server import DemoMarketplaces  # noqa: E402

QUERY = "bench"
SITE = "demo_vn"
JSON_SITE = "demo_rao"


def big_market(listings: int, latency_s: float) -> DemoMarketplaces:
    """The demo marketplaces with demo_vn and demo_rao grown to `listings` listings each, all found by the
    query "bench". Both hold the same listings (demo_vn's, in the same order), so the HTML and JSON lines
    differ only in the answers' form, not in what the pipeline has to match, detect and store."""
    generator.PAGE_SIZE = 50
    demo = DemoMarketplaces(base_port=0, latency_s=latency_s)
    base = list(demo.sites[SITE].listings)
    for site, prefix, width in ((SITE, "vn", 5), (JSON_SITE, "rao", 4)):
        grown = []
        for i in range(listings):
            src = base[i % len(base)]
            lid = f"{prefix}{i + 1:0{width}d}"
            grown.append(dataclasses.replace(src, id=lid, site=site, title=f"{src.title} {QUERY}",
                                             images=[f"/img/{lid}-1.jpg"]))
        demo.sites[site].listings = grown
        for listing in grown:  # drawn now: a photo host serves files, it does not paint them while crawled
            photos.for_listing(listing, 1)
    return demo


def site_dir(work: Path, browser: bool, image_hosts: list[str] | None = None) -> Path:
    folder = work / ("sites-browser" if browser else "sites-cdn" if image_hosts else "sites")
    folder.mkdir(exist_ok=True)
    for name in (SITE, JSON_SITE):
        doc = yaml.safe_load((ROOT / "sites" / f"{name}.yaml").read_text())
        doc["max_pages_per_query"] = 1000
        doc["needs_browser"] = browser
        if image_hosts:
            doc["image_hosts"] = image_hosts
        if doc["search"].get("paging"):  # the grown site's pages hold 50 answers
            doc["search"]["paging"]["size"] = generator.PAGE_SIZE
            doc["search"]["url"] = doc["search"]["url"].replace("limit=5", f"limit={generator.PAGE_SIZE}")
        doc["checks"] = []
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    return folder


def crawl_env(work: Path, urls: dict[str, str], **extra: str) -> dict:
    """The environment of a benchmark crawl: the grown site file, evidence and spool in `work`, the demo's ports."""
    return {**os.environ, "WILDWATCH_SITES_DIR": str(site_dir(work, browser=False)),
            "WILDWATCH_EVIDENCE_DIR": str(work / "evidence"), "WILDWATCH_SPOOL_DIR": str(work / "spool"),
            **{f"WILDWATCH_BASE_URL__{n.upper()}": u for n, u in urls.items()}, **extra}


def scrapy_stats(stderr: str) -> dict:
    def num(key):
        m = re.search(rf"'{re.escape(key)}': ([0-9.]+)", stderr)
        return float(m.group(1)) if m else 0.0
    return {"elapsed": num("elapsed_time_seconds"), "responses": num("response_received_count"),
            "restarts": num("wildwatch/browser_restarts"), "skipped": num("wildwatch/details_skipped"),
            "pages": num("wildwatch/pages/search") + num("wildwatch/pages/detail"),
            "photos": num("wildwatch/photos/fetched") + num("wildwatch/photos/refused")}


def run_full(env: dict, *extra: str, site: str = SITE) -> dict:
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={site}",
                             "-a", f"queries={QUERY}", *extra], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return scrapy_stats(result.stderr)


def run_bare(env: dict, url: str, concurrent_items: int | None = None, site: str = SITE) -> dict:
    extra = ["--bare-items", str(concurrent_items)] if concurrent_items else []
    result = subprocess.run([sys.executable, __file__, "--bare-spider", url, "--bare-site", site, *extra], cwd=ROOT,
                            env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return scrapy_stats(result.stderr)


def bare_spider(url: str, concurrent_items: int | None = None, site_name: str = SITE) -> None:
    """(b): the same site selectors (or JSON paths) and pure parsing functions, nothing else; Scrapy's
    defaults, or (b') our crawl's CONCURRENT_ITEMS (a Scrapy setting that speeds any spider, so its gain is not
    our pipelines')."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from spiders.extract import extract_detail, extract_search, next_search_url
    from wildwatch.sites import load

    site = load(site_name)

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self):
            yield scrapy.Request(url, cb_kwargs={"page_no": 1})

        def parse(self, response, page_no):
            page = extract_search(site, response)
            for result in page.results:
                yield response.follow(result.get("_fetch") or result["url"], callback=self.parse_detail)
            following = next_search_url(site, response, page, page_no)
            if following:
                yield response.follow(following, cb_kwargs={"page_no": page_no + 1})

        def parse_detail(self, response):
            yield extract_detail(site, response)

    process = CrawlerProcess({"CONCURRENT_REQUESTS_PER_DOMAIN": site.concurrency, "DOWNLOAD_DELAY": 0,
                              "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": True, "LOG_LEVEL": "INFO",
                              "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
                              "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
                              **({"CONCURRENT_ITEMS": concurrent_items} if concurrent_items else {})})
    process.crawl(BareSpider)
    process.start()


def run_requests_bs4(url: str) -> dict:
    """(c): one page after the other, parsed with BeautifulSoup."""
    from urllib.parse import urljoin

    import requests
    from bs4 import BeautifulSoup

    session = requests.Session()
    started = time.perf_counter()
    pages, next_url = 0, url
    while next_url:
        soup = BeautifulSoup(session.get(next_url, timeout=30).text, "lxml")
        pages += 1
        for a in soup.select("ul#ket-qua > li.sp a.ten"):
            item = BeautifulSoup(session.get(urljoin(next_url, a["href"]), timeout=30).text, "lxml")
            pages += 1
            _ = [item.select_one(s) for s in ("h1.listing-title", "div.price", "div.seller", "div.description")]
        link = soup.select_one("a.trang-sau")
        next_url = urljoin(next_url, link["href"]) if link else None
    return {"elapsed": time.perf_counter() - started, "responses": pages}


def chromium_pss(root_pid: int) -> int:
    """Bytes of proportional set size of every Chromium process under root_pid."""
    import psutil

    total = 0
    try:
        for child in psutil.Process(root_pid).children(recursive=True):
            try:
                if "chrom" in child.name():
                    total += child.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    except psutil.NoSuchProcess:
        pass
    return total


def run_browser(env: dict, pages: int) -> dict:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={SITE}", "-a", f"queries={QUERY}",
           "-s", f"CLOSESPIDER_PAGECOUNT={pages}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], chromium_pss(proc.pid))
            time.sleep(0.25)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(stderr[-3000:])
    return {**scrapy_stats(stderr), "peak_pss": peak[0]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=50,
                        help="each answer of the demo server waits this long, as a real site over the network does")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each crawl kind (medians compared)")
    parser.add_argument("--kinds", help="only these crawl kinds, by their label: a,b,j,j',p (default: all)")
    parser.add_argument("--bare-spider", help=argparse.SUPPRESS)
    parser.add_argument("--bare-items", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-site", default=SITE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_spider:
        bare_spider(args.bare_spider, args.bare_items, args.bare_site)
        return 0
    with scratch_database("wildwatch_bench_crawl"):
        return measure(args)


@contextlib.contextmanager
def photos_on(demo: DemoMarketplaces, host_url: str | None):
    """The grown site's photo links on another host (an image host, as marketplaces use) for a while."""
    listings = demo.sites[SITE].listings
    if host_url:
        for listing in listings:
            listing.images = [host_url + path for path in listing.images]
    try:
        yield
    finally:
        if host_url:
            for listing in listings:
                listing.images = [path.removeprefix(host_url) for path in listing.images]


def median_rate(runs: list[dict], key: str = "pages") -> tuple[float, str]:
    rates = [(r.get(key) or r["responses"]) / r["elapsed"] for r in runs]
    return statistics.median(rates), " ".join(f"{x:.0f}" for x in rates)


def measure(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="wildwatch-bench-crawl-"))
    demo = big_market(args.listings, args.latency_ms / 1000)
    urls = demo.start()
    base = urls[SITE]
    # Every run fetches every page (no incremental re-reading of the listings an earlier run stored): this
    # measures the cost of a page; bench/survey_requests.py measures how many pages a survey needs.
    env = crawl_env(work, urls, WILDWATCH_REFETCH_AFTER_DAYS="0")
    from spiders import settings as our_settings

    our_items = our_settings.CONCURRENT_ITEMS
    search_url = f"{base}/search?q={QUERY}"
    json_search_url = f"{urls[JSON_SITE]}/v1/ads?q={QUERY}&limit={generator.PAGE_SIZE}&o=0"
    # Marketplaces serve photos from image hosts of their own (CDNs), declared in the site file; Scrapy keeps
    # one polite budget per host, so there the photos cost the crawl CPU, not the site's request budget.
    cdn = base.replace("127.0.0.1", "localhost")
    cdn_env = {**env, "WILDWATCH_SITES_DIR": str(site_dir(work, browser=False, image_hosts=["localhost"]))}
    kinds = {"(a) full pipeline, no photos": lambda: run_full({**env, "WILDWATCH_PHOTOS_PER_LISTING": "0"}),
             "(b) bare Scrapy spider": lambda: run_bare(env, search_url),
             "(b') bare spider, our CONCURRENT_ITEMS": lambda: run_bare(env, search_url, our_items),
             "(p) (a) + photos from an image host": lambda: run_full(cdn_env),
             "(p') (a) + photos from the site's host": lambda: run_full(env),
             "(j) JSON site, full pipeline, no photos": lambda: run_full({**env, "WILDWATCH_PHOTOS_PER_LISTING": "0"},
                                                                        site=JSON_SITE),
             "(j') bare spider, same JSON answers": lambda: run_bare(env, json_search_url, site=JSON_SITE),
             "(j'') bare JSON spider, our CONCURRENT_ITEMS": lambda: run_bare(env, json_search_url, our_items,
                                                                              site=JSON_SITE)}
    wanted: set[str] = set()
    if args.kinds:
        wanted = {f"({k.strip()})" for k in args.kinds.split(",") if k.strip()}
        known = {name.split(" ", 1)[0] for name in kinds} | {"(c)"}
        if not wanted or wanted - known:
            raise SystemExit(f"--kinds: labels are {', '.join(sorted(k.strip('()') for k in known))}; "
                             f"got {args.kinds!r}")
        kinds = {name: run for name, run in kinds.items() if name.split(" ", 1)[0] in wanted}
    try:
        print(f"demo marketplace: {args.listings} listings, {generator.page_count(args.listings)} search pages "
              f"of {generator.PAGE_SIZE}; {args.latency_ms:g} ms per answer; site concurrency 4, no delay (our own server)")
        # A shared machine's speed drifts from minute to minute: the crawls take turns, each kind --repeat
        # times, and each kind's median is compared.
        runs: dict[str, list[dict]] = {name: [] for name in kinds}
        for _ in range(args.repeat):
            for name, run in kinds.items():
                with photos_on(demo, cdn if "image host" in name else None):
                    runs[name].append(run())
        c = run_requests_bs4(search_url) if not args.kinds or "(c)" in wanted else None
        rate = {name: median_rate(r) for name, r in runs.items()}
        print(f"{'':44s} {'pages':>6s} {'pages/s':>8s}   (median of {args.repeat}; each run)")
        for name, r in runs.items():
            print(f"{name:44s} {r[0].get('pages') or r[0]['responses']:6.0f} {rate[name][0]:8.1f}   {rate[name][1]}")
        if c:
            rate["(c)"] = (c["responses"] / c["elapsed"], "")
            print(f"{'(c) requests + BeautifulSoup':44s} {c['responses']:6.0f} {rate['(c)'][0]:8.1f}")
        short = {name.split(" ", 1)[0]: value for name, (value, _) in rate.items()}

        def ratio(a: str, b: str) -> str:
            return f"{short[a] / short[b]:.2f}" if a in short and b in short else "n/a"

        r_ab, r_ab2, r_ac = ratio("(a)", "(b)"), ratio("(a)", "(b')"), ratio("(a)", "(c)")
        r_jj, r_jj2 = ratio("(j)", "(j')"), ratio("(j)", "(j'')")
        print(f"(a)/(b) = {r_ab}   (a)/(b') = {r_ab2}   (a)/(c) = {r_ac}   "
              "(seconds: Scrapy's own elapsed time, process start excluded)")
        print(f"JSON site: (j)/(j') = {r_jj}   (j)/(j'') = {r_jj2}   (HTML: (a)/(b) = {r_ab}, (a)/(b') = {r_ab2})")
        full = short.get("(a)")
        for name, where in (("(p) (a) + photos from an image host", "an image host of the site's own (its file's "
                             "image_hosts)"), ("(p') (a) + photos from the site's host", "the site's own host, sharing "
                                               "its polite request budget")):
            if name not in rate or not full or "(b)" not in short:
                continue
            photos = statistics.median(r["photos"] for r in runs[name])
            print(f"photos from {where}: {photos:.0f} candidate photos; listing pages/s {rate[name][0]:.1f} against "
                  f"{full:.1f} without: costs {1 - rate[name][0] / full:.0%} of the crawl's pages/s; "
                  f"with them (a)/(b) = {rate[name][0] / short['(b)']:.2f}")
        if not args.skip_browser:
            benv = {**env, "WILDWATCH_SITES_DIR": str(site_dir(work, browser=True))}
            print(f"\nbrowser path (Chromium, restarted every {100} pages):")
            print(f"{'pages':>6s} {'seconds':>8s} {'pages/s':>8s} {'restarts':>8s} {'peak Chromium PSS MB':>22s}")
            results = {}
            for pages in (100, 2000):
                r = run_browser(benv, pages)
                results[pages] = r
                print(f"{r['responses']:6.0f} {r['elapsed']:8.1f} {r['responses'] / r['elapsed']:8.1f} "
                      f"{r['restarts']:8.0f} {r['peak_pss'] / 1e6:22.0f}")
            growth = results[2000]["peak_pss"] / results[100]["peak_pss"] - 1 if results[100]["peak_pss"] else 0
            print(f"memory growth 100 -> 2,000 pages: {growth:+.0%}")
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
