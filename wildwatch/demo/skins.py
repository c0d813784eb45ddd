"""How each demo marketplace lays out its pages. Each differs on purpose, so site files must carry
their own selectors, and each search page carries a sponsored block that is not a search result."""
from __future__ import annotations

from html import escape

from wildwatch.demo import generator
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


# -- demo_rao: a JSON API (as Chợ Tốt's) ----------------------------------------------------------------
def _ad(x) -> dict:
    return {"list_id": int(x.id[3:]) + 100000, "ad_id": int(x.id[3:]) + 900000, "subject": x.title, "body": x.description,
            "price": x.price, "price_string": money(x.price, x.currency), "account_oid": x.account,
            "account_id": sum(map(ord, x.account)) * 1000 + len(x.account), "account_name": x.seller,
            "area_name": x.location, "region_name": "Việt Nam", "list_time": _millis(x.posted),
            "image": x.images[0], "images": x.images, "is_sticky": False}


def _millis(day: str) -> int:
    import datetime as dt

    return int(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9), dt.timezone.utc).timestamp() * 1000)


def rao_id(list_id: int) -> str:
    return generator.listing_id_from_url(f"/{list_id}.htm")


def ads_answer(site, hits, promoted) -> dict:
    """A search answer: the page's ads, and a promoted ad (is_sticky) that is not a search result."""
    return {"ads": [{**_ad(promoted), "is_sticky": True}] + [_ad(x) for x in hits], "total": len(hits)}


def ad_answer(x) -> dict:
    return {"ad": _ad(x), "ad_params": {"address": {"id": "address", "label": "Địa chỉ", "value": x.location}}}


def ad_page(site, x) -> str:
    """The listing's own page (/<list_id>.htm): what an analyst opens."""
    return detail_page(site, x)


# -- demo_forum: a forum (Tieba's markup: mobile thread list, PC thread page) ---------------------------
def thread_id(x) -> int:
    return 5900000000 + int(x.id[5:])


def forum_list(site, query, hits, offset) -> str:
    rows = "".join(
        f"<li class=\"tl_shadow tl_shadow_new\"><div class=\"ti_infos clearfix\">"
        f"<div class=\"ti_author_time\" data-url=\"/home/main?{escape(urlencode({'un': x.account}))}\">"
        f"<div class=\"ti_author_icons clearfix\"><span class=\"ti_author\">{escape(x.seller)}</span></div>"
        f"<span class=\"ti_time\">{x.posted[5:]}</span></div></div>"
        f"<a href=\"/p/{thread_id(x)}?lp=5028&amp;mo_device=1\" class=\"j_common ti_item\" tid=\"{thread_id(x)}\">"
        f"<div class=\"ti_title\"><span>{escape(x.title)}</span></div>"
        f"<div class=\"medias_wrap clearfix\"><img class=\"j_media_thumb_holder medias_img\" "
        f"src=\"/static/loading.png\" data-url=\"{escape(x.images[0])}\"></div></a></li>"
        for x in hits)
    ad = ("<li class=\"tl_shadow tl_shadow_new\"><a href=\"javascript:;\" class=\"j_common ti_item\">"
          "<div class=\"ti_title\"><span>推广：名贵药材批发</span></div></a></li>")
    body = (f"<h1>{escape(query)}吧</h1><div id=\"tlist\" class=\"post_list\"><ul class=\"threads_list\">"
            f"{rows}{ad if offset == 0 else ''}</ul></div>"
            + ("" if hits else "<div class=\"frs_list_empty\">本吧暂无帖子</div>"))
    return page(site, f"{query}吧", body)


def _post(site, author, account, text, images, posted, floor) -> str:
    pics = "".join(f"<img class=\"BDE_Image\" src=\"{escape(src)}\">" for src in images)
    return (f"<div class=\"l_post j_l_post l_post_bright\" data-field='{{\"author\":{{\"user_name\":\"{escape(account)}\"}}}}'>"
            f"<div class=\"d_author\"><a class=\"p_author_name j_user_card\" href=\"/home/main?"
            f"{escape(urlencode({'un': account, 'ie': 'utf-8'}))}\">{escape(author)}</a></div>"
            f"<div class=\"d_post_content_main\"><cc><div class=\"d_post_content j_d_post_content\">"
            f"{escape(text)}{pics}</div></cc>"
            f"<div class=\"core_reply_tail\"><span class=\"tail-info\">{floor}楼</span>"
            f"<span class=\"tail-info\">{posted} 18:58</span></div></div></div>")


def thread_page(site, x) -> str:
    """A thread: the author's offer, a question from someone else, and (when the catalog has one) the
    author's reply with the contact."""
    posts = [_post(site, x.seller, x.account, x.description, x.images, x.posted, 1),
             _post(site, "路人甲", "passer_by_1", "多少钱？在哪里？", [], x.posted, 2)]
    if x.reply:
        posts.append(_post(site, x.seller, x.account, x.reply, [], x.posted, 3))
    body = (f"<div class=\"core_title_wrap_bright\"><h3 class=\"core_title_txt pull-left\" "
            f"title=\"{escape(x.title, quote=True)}\">{escape(x.title)}</h3></div>"
            f"<div id=\"j_p_postlist\" class=\"p_postlist\">{''.join(posts)}</div>")
    return page(site, x.title, body)
