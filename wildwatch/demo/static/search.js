// Renders the Chinese demo site's search results from its JSON API, as many Chinese marketplaces do.
// Text goes in through textContent only: listing text is untrusted.
(function () {
  var app = document.getElementById("app");
  var q = app.getAttribute("data-q");
  var params = new URLSearchParams(window.location.search);
  var page = parseInt(params.get("page") || "1", 10);
  fetch("/api/search?" + new URLSearchParams({ q: q, page: String(page) }))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      app.textContent = "";
      if (!data.items.length) {
        var empty = document.createElement("div");
        empty.className = "empty";
        empty.textContent = "没有找到相关宝贝";
        app.appendChild(empty);
      } else {
        var list = document.createElement("ul");
        list.className = "items";
        data.items.forEach(function (it) {
          var li = document.createElement("li");
          li.className = "item";
          var a = document.createElement("a");
          a.className = "item-link";
          a.href = it.url;
          a.textContent = it.title;
          var price = document.createElement("span");
          price.className = "item-price";
          price.textContent = it.price;
          var place = document.createElement("span");
          place.className = "item-place";
          place.textContent = it.location;
          li.appendChild(a); li.appendChild(price); li.appendChild(place);
          list.appendChild(li);
        });
        app.appendChild(list);
      }
      var ad = document.createElement("div");
      ad.className = "promo";
      ad.textContent = "推广：" + data.promo;
      app.appendChild(ad);
      if (data.page < data.pages) {
        var next = document.createElement("a");
        next.className = "next-page";
        next.href = "/search?" + new URLSearchParams({ q: q, page: String(data.page + 1) });
        next.textContent = "下一页";
        app.appendChild(next);
      }
      app.setAttribute("data-ready", "1");
    });
})();
