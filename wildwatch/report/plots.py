"""Plots for the report (matplotlib, Agg): print-readable, titled axes with units, no chart junk, and a
CJK-capable font so Chinese and Vietnamese labels render."""
from __future__ import annotations

import calendar

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans")


def _font() -> str:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), "DejaVu Sans")


def _style():
    plt.rcParams.update({"font.family": _font(), "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "axes.titlesize": 10, "figure.dpi": 110})


def png_data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _month_label(month: str) -> str:
    """'2026-11' -> 'Nov 26': short enough for six to a panel."""
    year, number = month.split("-")[:2]
    return f"{calendar.month_abbr[int(number)]} {year[2:]}"


def trend_small_multiples(trend: list[dict], months: list[str], title: str) -> str | None:
    """One panel per product group: confirmed offers (line) and candidates queued (grey), per month."""
    groups = sorted({r["product_group"] for r in trend})
    if not groups:
        return None
    _style()
    cols = 3
    rows = (len(groups) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(9, 2.2 * rows), sharex=True, squeeze=False)
    by_key = {(r["product_group"], r["month"]): r for r in trend}
    x = list(range(len(months)))
    for ax, group in zip(axes.flat, groups, strict=False):
        queued = [by_key.get((group, m), {}).get("queued", 0) for m in months]
        confirmed = [by_key.get((group, m), {}).get("confirmed", 0) for m in months]
        ax.plot(x, queued, color="#999999", linewidth=1, label="candidates queued")
        ax.plot(x, confirmed, color="#1f4e79", linewidth=2, marker="o", markersize=3, label="offers confirmed")
        ax.set_title(group.replace("_", " "))
        ax.set_ylabel("listings per month")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # listings are counted: no 0.5 ticks
        # Every panel carries its own month labels (shared axes would label the bottom row only), as many
        # as fit a panel's width.
        step = max(1, -(-len(months) // 6))
        ax.set_xticks(x[::step], [_month_label(months[i]) for i in x[::step]], rotation=0)
        ax.tick_params(axis="x", labelbottom=True, labelsize=7)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", frameon=False, ncols=2)
    fig.suptitle(title, x=0.02, ha="left")
    fig.supxlabel("survey month")
    fig.tight_layout()
    return png_data_uri(fig)


def removal_bars(referrals: list[dict], title: str) -> str | None:
    rows = [r for r in referrals if r["recipient_kind"] == "platform" and r["listings_referred"]]
    if not rows:
        return None
    _style()
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(rows)))
    names = [r["recipient"] for r in rows]
    y = list(range(len(rows)))
    ax.barh([v + 0.2 for v in y], [100 * r["share_removed_7d"] for r in rows], height=0.4, color="#1f4e79",
            label="within 7 days")
    ax.barh([v - 0.2 for v in y], [100 * r["share_removed_30d"] for r in rows], height=0.4, color="#9dc3e6",
            label="within 30 days")
    ax.set_yticks(y, names)
    ax.set_xlim(0, 100)
    ax.set_xlabel("referred listings removed (%)")
    ax.set_title(title)
    ax.legend(frameon=False, loc="lower right")
    return png_data_uri(fig)


def price_ranges(rows: list[dict], title: str) -> str | None:
    """Median asking price in US$ per product group and country, with the middle half (Q1 to Q3) as a bar,
    on a log scale (a bird and a rhino horn differ by four orders of magnitude)."""
    from wildwatch import money

    shown = []
    for r in rows:
        if r["median_usd"] is None or not r["offers"]:
            continue
        to_usd = r["median_usd"] / r["median"] if r["median"] else None
        low, high = (r["q1"] * to_usd, r["q3"] * to_usd) if to_usd else (r["median_usd"], r["median_usd"])
        shown.append((f"{r['product_group'].replace('_', ' ')}, {r['country']} (n={r['offers']})",
                      r["median_usd"], low, high))
    if not shown:
        return None
    _style()
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.4 * len(shown)))
    y = list(range(len(shown)))
    for i, (_, median, low, high) in enumerate(shown):
        ax.plot([low, high], [i, i], color="#9dc3e6", linewidth=6, solid_capstyle="butt")
        ax.plot([median], [i], marker="o", color="#1f4e79")
    ax.set_yticks(y, [s[0] for s in shown])
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:,.0f}")  # "2,000", not "2 × 10³"
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel(f"asking price, US$ (rates of {money.rates()['date']}); dot: median, bar: middle half")
    ax.set_title(title)
    ax.invert_yaxis()
    return png_data_uri(fig)
