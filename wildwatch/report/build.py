"""Assembling the month's report: every table, the plots, and the files (HTML, one CSV per table, XLSX)."""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from wildwatch.contacts import KINDS
from wildwatch.ranker import audit
from wildwatch.report import plots, prices, queries, terms
from wildwatch.review.export import _cell

# name -> (title, columns). The order here is the order in the report, the CSVs and the workbook.
# Tables whose count columns add up to something meaningful: they get a totals row.
TOTALS = ("offers", "species", "lifecycle")
COUNTS = {"found_by_hand", "queued", "confirmed_of_queued", "found_by_audit", "confirmed", "queued_prev",
          "confirmed_prev", "confirmed_change", "new", "seen_again", "gone"}
LINK_KINDS = {**KINDS, "seller": "seller account"}
TABLES = {
    "offers": ("Candidates queued and offers confirmed, by product group, platform, country and language "
               "(confirmed = confirmed of the queued + found by the blind audit among listings the filter did not "
               "queue)",
               ["product_group", "platform", "country", "language", "queued", "confirmed_of_queued",
                "found_by_audit", "confirmed", "queued_prev", "confirmed_prev", "confirmed_change"]),
    "hand_finds": ("Offers found by hand (social groups, messengers), apart from crawled ones",
                   ["platform", "country", "found_by_hand", "confirmed"]),
    "species": ("Confirmed offers by species, as analysts recorded them", ["species", "product_group", "confirmed"]),
    "prices": ("Asking prices of confirmed offers by product group and country (asking, not sale prices; US$ at "
               "the shipped rates; placeholder prices and wholesale lots set apart)",
               ["product_group", "country", "currency", "offers", "median", "q1", "q3", "median_usd",
                "median_usd_prev", "change", "usd_per_kg", "priced_by_weight", "usd_per_piece", "priced_by_piece",
                "set_apart"]),
    "trend": ("Twelve-month trend per product group",
              ["product_group", "month", "queued", "confirmed"]),
    "lifecycle": ("Listings new, seen again and gone since last month", ["platform", "new", "seen_again", "gone"]),
    "referrals": ("Referrals sent this month and removals so far",
                  ["recipient_kind", "recipient", "referrals_sent", "listings_referred", "removed", "removed_7d",
                   "removed_30d", "share_removed_7d", "share_removed_30d", "median_days_to_removal"]),
    "keyword_yield": ("Keyword yield this month", ["term", "language", "product_group", "queued", "decided",
                                                   "confirmed", "precision"]),
    "never_yield": ("Terms with no confirmed offer in twelve months (3+ decided candidates)",
                    ["term", "language", "product_group", "queued", "decided"]),
    "suggested_terms": ("Suggested new terms (for review; never added automatically)",
                        ["term", "confirmed_listings", "other_listings", "z"]),
    "seller_networks": ("Seller networks with confirmed offers on several platforms, in several countries or months "
                        "(linked by shared contacts or seller accounts)",
                        ["network", "confirmed_offers", "platforms", "countries", "months", "platform_list",
                         "country_list", "month_list", "linked_by"]),
    "filter_quality": ("What the filter missed (blind audit sample of unqueued listings) and the queue's precision, "
                       "with 95% Wilson intervals",
                       ["measure", "population", "sampled", "decided", "confirmed", "share", "share_low", "share_high",
                        "estimate", "estimate_low", "estimate_high"]),
    "crawl_health": ("Crawl health per site and run, latest first", ["site", "country", "run", "started", "status",
                                                                     "healthy", "reason", "failed_requests", "why_failed",
                                                                     "pages", "items",
                                               "title_coverage", "price_coverage", "seller_coverage",
                                               "search_terms", "terms_without_results", "requests",
                                               "details_skipped", "candidates", "confirmed",
                                               "candidates_per_1k_requests", "confirmed_per_1k_requests"]),
}


@dataclass
class Report:
    month: dt.date
    country: str | None
    public: bool
    generated_at: dt.datetime
    review: dict = field(default_factory=dict)  # candidates, decided: how far review of the month has got
    trend_months: list[str] = field(default_factory=list)
    totals: dict[str, dict] = field(default_factory=dict)  # per table: the sum of each count column
    tables: dict[str, list[dict]] = field(default_factory=dict)
    plots: dict[str, str | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}" + (f"-{self.country}" if self.country else "") + ("-public" if self.public else "")


def _texts(conn, p: dict) -> tuple[list[str], list[str]]:
    with conn.cursor() as cur:
        cur.execute("""SELECT i.confirmed, concat_ws(' ', l.title, l.description) FROM report_items i
                       JOIN listings l ON l.id = i.listing_id WHERE i.settled AND i.period <= %(month)s""", p)
        rows = cur.fetchall()
    return [t for c, t in rows if c], [t for c, t in rows if not c]


def _known_terms(conn) -> list[str]:
    from wildwatch import config, keywords

    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT term FROM keywords")
        in_db = [r[0] for r in cur.fetchall()]
    return in_db + [t.term for t in keywords.load(config.load().keywords_dir).terms]


def build_report(conn, month: str, country: str | None = None, public: bool = False) -> Report:
    if not re.fullmatch(r"\d{4}-\d{2}", month or ""):
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    period = dt.date.fromisoformat(f"{month}-01")
    country = country.upper() if country else None
    p = queries.params(period, country)
    report = Report(period, country, public, dt.datetime.now(dt.timezone.utc))
    with conn:  # the temporary table lives for this transaction
        queries.prepare(conn, p)
        t = report.tables
        report.review = queries.fetch(conn, queries.REVIEW_STATUS, p)[0]
        t["offers"] = queries.fetch(conn, queries.OFFERS, p)
        t["hand_finds"] = queries.fetch(conn, queries.HAND, p)
        t["species"] = queries.fetch(conn, queries.SPECIES, p)
        offers = queries.fetch(conn, queries.PRICES, p)
        t["prices"] = prices.table([o for o in offers if o["period"] == period],
                                   [o for o in offers if o["period"] != period])
        t["trend"] = queries.fetch(conn, queries.TREND, p)
        t["lifecycle"] = queries.fetch(conn, queries.LIFECYCLE, p)
        t["referrals"] = queries.fetch(conn, queries.REFERRALS, p)
        t["keyword_yield"] = queries.fetch(conn, queries.KEYWORD_YIELD, p)
        t["never_yield"] = queries.fetch(conn, queries.NEVER_YIELD, p)
        confirmed, other = _texts(conn, p)
        t["suggested_terms"] = terms.suggest(confirmed, other, _known_terms(conn))
        t["seller_networks"] = queries.fetch(conn, queries.NETWORKS, p)
        for row in t["seller_networks"]:
            row["linked_by"] = ", ".join(LINK_KINDS.get(k, k) for k in sorted(row["linked_by"] or []))
        t["crawl_health"] = queries.fetch(conn, queries.CRAWL_HEALTH, p)
        t["filter_quality"] = audit.estimate(conn, period, country)
    if public:
        # Outside the team: no seller names, contacts or photos, no listing URLs (no table carries them), and
        # no network ids that would let a reader match networks across published reports.
        for i, row in enumerate(t["seller_networks"], start=1):
            row["network"] = f"network {i}"
    # Months before the first survey are not zeros: the trend starts where the surveys do.
    first = report.review.get("first_surveyed")
    months = [f"{queries.add_months(period, -k):%Y-%m}" for k in range(11, -1, -1)
              if first is None or queries.add_months(period, -k) >= first.replace(day=1)]
    report.trend_months = months
    for name in TOTALS:
        report.totals[name] = {c: sum(r.get(c) or 0 for r in t[name]) for c in TABLES[name][1] if c in COUNTS}
    scope = f" ({country})" if country else ""
    report.plots["trend"] = plots.trend_small_multiples(t["trend"], months,
                                                        f"Offers per product group, {months[0]} to {months[-1]}{scope}")
    report.plots["prices"] = plots.price_ranges(t["prices"], f"Asking prices of confirmed offers, {month}{scope}")
    report.plots["removals"] = plots.removal_bars(t["referrals"], f"Removal of listings referred in {month}{scope}")
    return report


def _environment() -> Environment:
    folder = str(resources.files("wildwatch.report").joinpath("templates"))
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"]))
    env.globals["fmt"] = _fmt
    return env


PERCENT_COLUMNS = {"share", "share_low", "share_high",
                   "share_removed_7d", "share_removed_30d", "precision", "title_coverage", "price_coverage",
                   "seller_coverage"}


MONEY_COLUMNS = {"median", "q1", "q3", "median_usd", "median_usd_prev", "usd_per_kg", "usd_per_piece"}


def _fmt(column: str, value) -> str:
    if value is None:
        return ""
    if column in PERCENT_COLUMNS:
        return f"{value:.0%}"
    if column == "change":
        return f"{value:+.0%}"
    if column in MONEY_COLUMNS:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if column == "product_group":
        return str(value).replace("_", " ")  # "big cats", as the charts say
    return str(value)


def write(report: Report, out_dir: Path) -> dict[str, Path]:
    """report-<label>.html, <table>.csv for each table, report-<label>.xlsx; returns the paths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    html = _environment().get_template("report.html").render(report=report, tables=TABLES)
    written["html"] = out_dir / f"report-{report.label}.html"
    written["html"].write_text(html, encoding="utf-8")
    book = Workbook()
    book.remove(book.active)
    for name, (_title, columns) in TABLES.items():
        path = out_dir / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in report.tables[name]:
                writer.writerow([_cell(row.get(c)) for c in columns])
        written[name] = path
        sheet = book.create_sheet(name[:31])
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in report.tables[name]:
            # Text cells that look like formulas stay text: scraped words never become spreadsheet code.
            sheet.append([_cell(v) if isinstance(v, str) else v for v in (row.get(c) for c in columns)])
    written["xlsx"] = out_dir / f"report-{report.label}.xlsx"
    book.save(written["xlsx"])
    return written
