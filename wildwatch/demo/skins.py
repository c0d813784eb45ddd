"""How each demo marketplace lays out its pages. Each differs on purpose, so site files must carry
their own selectors, and each search page carries a sponsored block that is not a search result."""
from __future__ import annotations

from html import escape
from urllib.parse import urlencode


def money(amount: int, currency: str) -> str:
    if currency == "CNY":
        return f"¥{amount:,.2f}"
    if currency == "VND":
        return f"{amount:,}".replace(",", ".") + " ₫"
    if currency == "XAF":
        return f"{amount:,}".replace(",", " ") + " FCFA"
    return f"TSh {amount:,}"


def item_href(listing, query: str) -> str:
    # Tracking parameters that the site file's canonical-URL rule must strip.
    return f"/item/{listing.id}?" + urlencode({"ref": "search", "q": query})


def page(site, title: str, body: str, head: str = "") -> str:
    lang = site.languages[0]
    return (f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{escape(title)} - "
            f"{escape(site.title)}</title>{head}</head><body><header><a href=\"/\">{escape(site.title)}</a>"
            f"<form action=\"/search\"><input name=\"q\"></form></header><main>{body}</main>"
            f"<footer>© demo marketplace for wildwatch tests</footer></body></html>")


def _sponsored(site, listing) -> str:
    return (f"<aside class=\"sponsored\"><div class=\"ad\"><a class=\"title\" href=\"/item/{listing.id}\">"
            f"{escape(listing.title)}</a></div></aside>")


def _pager(site, query, page_no, pages, next_class) -> str:
    if page_no >= pages:
        return f"<nav class=\"pager\"><span>{page_no}/{pages}</span></nav>"
    href = "/search?" + urlencode({"q": query, "page": page_no + 1})
    return (f"<nav class=\"pager\"><span>{page_no}/{pages}</span>"
            f"<a class=\"{next_class}\" rel=\"next\" href=\"{escape(href)}\">»</a></nav>")


def search_page_vn(site, query, hits, page_no, pages, ad) -> str:
    rows = "".join(
        f"<li class=\"sp\"><a class=\"ten\" href=\"{escape(item_href(x, query))}\">{escape(x.title)}</a>"
        f"<b class=\"gia\">{escape(money(x.price, x.currency))}</b><i class=\"noi\">{escape(x.location)}</i></li>"
        for x in hits)
    body = (f"<h1>Kết quả: {escape(query)}</h1>" + _sponsored(site, ad)
            + (f"<ul id=\"ket-qua\">{rows}</ul>" if hits else "<p class=\"khong-co\">Không có kết quả</p>")
            + _pager(site, query, page_no, pages, "trang-sau"))
    return page(site, query, body)


def search_page_cm(site, query, hits, page_no, pages, ad) -> str:
    rows = "".join(
        f"<div class=\"annonce\"><h2><a href=\"{escape(item_href(x, query))}\">{escape(x.title)}</a></h2>"
        f"<p class=\"prix\">{escape(money(x.price, x.currency))}</p><p class=\"ville\">{escape(x.location)}</p></div>"
        for x in hits)
    body = (f"<h1>Annonces pour « {escape(query)} »</h1>"
            + (f"<section id=\"annonces\">{rows}</section>" if hits else "<p class=\"aucun\">Aucune annonce</p>")
            + _sponsored(site, ad) + _pager(site, query, page_no, pages, "suivant"))
    return page(site, query, body)


def search_page_tz(site, query, hits, page_no, pages, ad) -> str:
    rows = "".join(
        f"<div class=\"ad-card\" data-id=\"{x.id}\"><a class=\"ad-title\" href=\"{escape(item_href(x, query))}\">"
        f"{escape(x.title)}</a><span class=\"ad-price\">{escape(money(x.price, x.currency))}</span>"
        f"<span class=\"ad-loc\">{escape(x.location)}</span></div>"
        for x in hits)
    body = (_sponsored(site, ad) + f"<h1>Matokeo ya \"{escape(query)}\"</h1>"
            + (f"<div class=\"ad-list\">{rows}</div>" if hits else "<p class=\"empty\">Hakuna matangazo</p>")
            + _pager(site, query, page_no, pages, "next"))
    return page(site, query, body)


def search_shell_cn(site, query) -> str:
    """The Chinese site sends an empty shell; its results exist only after search.js runs."""
    body = (f"<h1>搜索：{escape(query)}</h1><div id=\"app\" data-q=\"{escape(query, quote=True)}\">加载中…</div>"
            "<script src=\"/static/search.js\"></script>")
    return page(site, query, body)


def detail_page(site, x) -> str:
    images = "".join(f"<img class=\"photo\" src=\"{escape(src)}\" alt=\"\">" for src in x.images)
    body = (f"<article class=\"listing\" data-id=\"{x.id}\"><h1 class=\"listing-title\">{escape(x.title)}</h1>"
            f"<div class=\"price\">{escape(money(x.price, x.currency))}</div>"
            f"<div class=\"seller\"><a class=\"seller-link\" href=\"/seller/{escape(x.account)}\">{escape(x.seller)}</a></div>"
            f"<div class=\"location\">{escape(x.location)}</div>"
            f"<time class=\"posted\" datetime=\"{x.posted}\">{x.posted}</time>"
            f"<div class=\"description\">{escape(x.description)}</div><div class=\"gallery\">{images}</div></article>")
    return page(site, x.title, body)


def removed_page(site) -> str:
    return page(site, "Listing removed", "<p class=\"listing-removed\">This listing has been removed.</p>")


SEARCH_PAGES = {"demo_vn": search_page_vn, "demo_cm": search_page_cm, "demo_tz": search_page_tz}
