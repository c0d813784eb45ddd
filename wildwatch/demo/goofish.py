"""A Xianyu-shaped demo marketplace, for the page kinds the saved real set lacks (an item page, a second page of
results). Built from the documented shapes of Goofish's mtop API (goofish-client's docs:
`mtop.taobao.idlemtopsearch.pc.search` answers with data.resultList and data.resultInfo.hasNextPage;
`mtop.taobao.idle.pc.detail` with data.itemDO and data.sellerDO), as the real pages ask for them:

- the search page and the item page are empty shells whose own script asks the API, POSTing the form field
  `data` (JSON) with a `sign` computed in the page; the API refuses unsigned requests, so a crawler cannot
  call it and must read what the page receives (`json.capture` in sites/xianyu.yaml);
- the search page pages in place: a pager arrow asks for the next answer without leaving the page;
- every answer carries a paid placement (`isAliMaMaAD`).

Not a copy of any real page: the markup is the demo's own; only the API shapes follow the documentation.
"""
from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from wildwatch.demo import photos

SEARCH_API = "/h5/mtop.taobao.idlemtopsearch.pc.search/1.0/"
DETAIL_API = "/h5/mtop.taobao.idle.pc.detail/1.0/"
ROWS = 30
TOKEN = "demo-token"

_PRODUCTS = [("象牙手镯 老料 包浆自然", 2800), ("猛犸象牙雕刻 挂件 收藏级", 1500), ("象牙筷子 老象牙 一双", 980),
             ("玳瑁手镯 老货", 1200), ("穿山甲片 药材 干货", 360), ("犀牛角杯 老物件", 16800),
             ("盔犀鸟 鹤顶红 吊坠", 4200), ("乒乓球拍 直拍 九成新", 38)]
_CITIES = ["广东", "福建", "云南", "广西", "四川"]


def catalog(n: int = 65) -> list[dict]:
    """n listings that match 象牙 (ivory) plus the other products, each with a seller and photos."""
    ivory = [p for p in _PRODUCTS if "象牙" in p[0]]
    rest = [p for p in _PRODUCTS if "象牙" not in p[0]]
    items = []
    for i in range(n + len(rest)):
        title, price = ivory[i % len(ivory)] if i < n else rest[i - n]
        seller = i % 7
        items.append({
            "itemId": 900000000000 + i, "title": f"{title} {i + 1}号", "soldPrice": str(price + i),
            "desc": f"{title}。私聊看货，微信 xy{seller:03d}ivory，顺丰包邮。编号{i + 1}",
            "gmtCreate": 1729309300000 + i * 3_600_000, "city": _CITIES[seller % len(_CITIES)],
            "nick": f"闲鱼卖家{seller}", "sellerId": 2200000000 + seller, "encryptedId": f"uvDemo{seller}Seller==",
            "images": [f"/img/{900000000000 + i}-{k}.jpg" for k in range(3)],
        })
    return items


def _sign(token: str, t: str, data: str) -> str:
    """The demo's request signature (the real one is MD5 of token&t&appKey&data); the page computes the same."""
    h = 5381
    for ch in f"{token}&{t}&34839810&{data}":
        h = (h * 33 + ord(ch)) % 4294967296
    return format(h, "x")


_SIGN_JS = """
function sign(t, data) {
  var s = "%s&" + t + "&34839810&" + data, h = 5381;
  for (var i = 0; i < s.length; i++) { h = (h * 33 + s.charCodeAt(i)) %% 4294967296; }
  return h.toString(16);
}
function mtop(api, payload) {
  var t = String(Date.now()), data = JSON.stringify(payload);
  return fetch("/h5/" + api + "/1.0/?jsv=2.7.2&appKey=34839810&t=" + t + "&sign=" + sign(t, data), {
    method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
    body: "data=" + encodeURIComponent(data)}).then(function (r) { return r.json(); });
}
function text(tag, cls, value) {
  var el = document.createElement(tag); el.className = cls; el.textContent = value; return el;
}
""" % TOKEN

_SEARCH_JS = """
var q = document.getElementById("app").getAttribute("data-q"), pageNumber = 1;
function load() {
  mtop("mtop.taobao.idlemtopsearch.pc.search", {keyword: q, pageNumber: pageNumber, rowsPerPage: 30})
    .then(function (answer) {
      var list = document.getElementById("feeds"); list.textContent = "";
      answer.data.resultList.forEach(function (r) {
        var ex = r.data.item.main.exContent, a = document.createElement("a");
        a.className = "feeds-item-wrap"; a.href = "/item?id=" + ex.itemId;
        a.appendChild(text("div", "main-title", ex.title));
        a.appendChild(text("span", "price", ex.price.map(function (p) { return p.text; }).join("")));
        list.appendChild(a);
      });
      var next = document.getElementById("next");
      next.disabled = !answer.data.resultInfo.hasNextPage;
      next.className = "search-pagination-arrow-right" + (next.disabled ? " disabled" : "");
    });
}
document.getElementById("next").addEventListener("click", function () { pageNumber += 1; load(); });
load();
"""

_ITEM_JS = """
var id = document.getElementById("app").getAttribute("data-id");
mtop("mtop.taobao.idle.pc.detail", {itemId: id}).then(function (answer) {
  var app = document.getElementById("app"), item = answer.data.itemDO;
  if (!item) { app.appendChild(text("div", "error", "宝贝不存在")); return; }
  app.appendChild(text("h1", "item-title", item.title));
  app.appendChild(text("div", "desc", item.desc));
  app.appendChild(text("div", "seller", answer.data.sellerDO.nick));
});
"""


def _shell(title: str, body: str, script: str) -> bytes:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body>{body}<script>{_SIGN_JS}{script}</script></body></html>').encode()


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def search_answer(items: list[dict], keyword: str, page: int, rows: int = ROWS) -> dict:
    hits = [x for x in items if keyword and keyword in x["title"]]
    chunk = hits[(page - 1) * rows: page * rows]
    ad = items[-1]
    results = [_result(x, keyword, page, ad=False) for x in chunk]
    if chunk:
        results.insert(1, _result(ad, keyword, page, ad=True))
    return {"api": "mtop.taobao.idlemtopsearch.pc.search", "v": "1.0", "ret": ["SUCCESS::调用成功"],
            "data": {"resultList": results,
                     "resultInfo": {"hasNextPage": page * rows < len(hits),
                                    "searchResControlFields": {"numFound": len(hits)}}}}


def _result(x: dict, keyword: str, page: int, ad: bool) -> dict:
    ex = {"itemId": str(x["itemId"]), "title": x["title"], "area": x["city"], "userNickName": x["nick"],
          "picUrl": x["images"][0], "price": [{"text": "¥"}, {"text": x["soldPrice"]}],
          "detailParams": {"itemId": str(x["itemId"]), "title": x["title"] + "\n\n" + x["desc"],
                           "userNick": x["nick"], "soldPrice": x["soldPrice"]}}
    if ad:
        ex["isAliMaMaAD"] = True
    args = {"id": str(x["itemId"]), "seller_id": x["encryptedId"], "publishTime": str(x["gmtCreate"]),
            "keyword": keyword, "page": str(page)}
    return {"data": {"item": {"main": {"exContent": ex, "clickParam": {"args": args}}}}}


def detail_answer(x: dict | None) -> dict:
    if x is None:
        return {"api": "mtop.taobao.idle.pc.detail", "v": "1.0", "ret": ["FAIL_BIZ_ITEM_NOT_EXIST::宝贝不存在"],
                "data": {}}
    return {"api": "mtop.taobao.idle.pc.detail", "v": "1.0", "ret": ["SUCCESS::调用成功"],
            "data": {"itemDO": {"itemId": x["itemId"], "title": x["title"], "desc": x["desc"],
                                "soldPrice": x["soldPrice"], "gmtCreate": x["gmtCreate"], "itemStatus": 0,
                                "imageInfos": [{"url": u, "major": k == 0} for k, u in enumerate(x["images"])]},
                     "sellerDO": {"sellerId": x["sellerId"], "nick": x["nick"], "city": x["city"],
                                  "publishCity": x["city"]}}}


class _Handler(BaseHTTPRequestHandler):
    items: list[dict] = []
    counts: dict[str, int] = {}
    rows: int = ROWS

    def log_message(self, *args):
        """Quiet: tests read the request counts, not a log."""

    def _send(self, body: bytes | str, ctype: str = "text/html; charset=utf-8", status=HTTPStatus.OK) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _count(self, path: str) -> None:
        self.counts[path] = self.counts.get(path, 0) + 1

    def do_GET(self):
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        self._count(url.path)
        if url.path == "/robots.txt":
            return self._send("User-agent: *\nDisallow: /account/\n", "text/plain")
        if url.path == "/search":
            q = params.get("q", [""])[0]
            body = (f'<div id="app" data-q="{_escape(q)}"><div id="feeds"></div>'
                    '<button id="next" class="search-pagination-arrow-right">下一页</button></div>')
            return self._send(_shell(f"{_escape(q)}_闲鱼", body, _SEARCH_JS))
        if url.path == "/item":
            item_id = params.get("id", [""])[0]
            return self._send(_shell("闲鱼", f'<div id="app" data-id="{_escape(item_id)}"></div>', _ITEM_JS))
        if url.path.startswith("/img/") and url.path.endswith(".jpg"):
            return self._send(photos.render(url.path[5:-4]), "image/jpeg")
        if url.path.startswith("/h5/"):  # the API answers POSTs only, as the page sends them
            return self._send(json.dumps({"ret": ["FAIL_SYS_ILLEGAL_ACCESS::非法请求"]}), "application/json",
                              HTTPStatus.METHOD_NOT_ALLOWED)
        return self._send("<h1>404</h1>", status=HTTPStatus.NOT_FOUND)

    def do_POST(self):
        url = urlsplit(self.path)
        self._count(url.path)
        params = parse_qs(url.query)
        length = min(int(self.headers.get("Content-Length") or 0), 65536)
        data = parse_qs(self.rfile.read(length).decode("utf-8", "replace")).get("data", [""])[0]
        t = params.get("t", [""])[0]
        if params.get("sign", [""])[0] != _sign(TOKEN, t, data):
            return self._send(json.dumps({"ret": ["FAIL_SYS_ILLEGAL_ACCESS::非法请求"]}), "application/json",
                              HTTPStatus.FORBIDDEN)
        try:
            payload = json.loads(data)
        except ValueError:
            payload = {}
        if url.path == SEARCH_API:
            page = payload.get("pageNumber", 1)
            answer = search_answer(self.items, str(payload.get("keyword", "")),
                                   page if isinstance(page, int) and page > 0 else 1, self.rows)
        elif url.path == DETAIL_API:
            wanted = str(payload.get("itemId", ""))
            answer = detail_answer(next((x for x in self.items if str(x["itemId"]) == wanted), None))
        else:
            return self._send("{}", "application/json", HTTPStatus.NOT_FOUND)
        return self._send(json.dumps(answer, ensure_ascii=False), "application/json;charset=UTF-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(host: str = "127.0.0.1", port: int = 0, items: list[dict] | None = None,
          rows: int = ROWS) -> tuple[_Server, dict]:
    """Starts the demo in a thread: (server, requests counted by path). `rows`: results per answer (30 as the
    real API's default; tests page sooner)."""
    counts: dict[str, int] = {}
    handler = type("GoofishHandler", (_Handler,), {"items": items or catalog(), "counts": counts, "rows": rows})
    server = _Server((host, port), handler)
    threading.Thread(target=server.serve_forever, name="demo-goofish", daemon=True).start()
    return server, counts
