// Keyboard shortcuts: 1-4 decide on the item shown, n takes the next item, u undoes the last decision,
// p shows the next photo large (Escape closes it), ? lists them. Not while typing in a field.
document.addEventListener("keydown", function (event) {
  var tag = (event.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || event.ctrlKey || event.metaKey || event.altKey) return;
  var help = document.getElementById("help");
  if (event.key === "?" && help) {
    event.preventDefault();
    if (help.open) help.close(); else help.showModal();
    return;
  }
  if (help && help.open) return;  // the dialog handles Escape itself
  if (event.key === "p" || event.key === "Escape") {
    var boxes = Array.prototype.slice.call(document.querySelectorAll(".lightbox"));
    if (!boxes.length) return;
    var open = boxes.findIndex(function (b) { return "#" + b.id === location.hash; });
    event.preventDefault();
    if (event.key === "Escape") { if (open >= 0) location.hash = "photos"; return; }
    location.hash = boxes[(open + 1) % boxes.length].id;
    return;
  }
  var button = null;
  if (event.key === "n") button = document.getElementById("next");
  else if (event.key === "u") button = document.getElementById("undo");
  else button = document.querySelector('#decide button[data-key="' + event.key + '"], '
                                       + '#decide-group button[data-key="' + event.key + '"]');
  if (button) { event.preventDefault(); button.click(); }
});

// Following a link away from an item one holds lets the item go at once (not when the lease runs out),
// so others can take it. Deciding, "Next item" and reloading keep to the server's own rules.
(function () {
  var form = document.getElementById("decide");
  if (!form || !form.dataset.release || !navigator.sendBeacon) return;
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    var href = link ? link.getAttribute("href") : "";
    // Photos open in place; evidence files download beside the item.
    if (!link || link.target || /^(#|\/evidence\/|\/photo\/)/.test(href)) return;
    var data = new FormData();
    data.append("csrf_token", form.querySelector('input[name="csrf_token"]').value);
    navigator.sendBeacon(form.dataset.release, data);
  });
})();

// The Undo button goes when the decision can no longer be taken back (the server refuses it after that).
(function () {
  var form = document.querySelector("form[data-expires-in]");
  if (!form) return;
  setTimeout(function () { form.remove(); }, Math.max(0, parseInt(form.dataset.expiresIn, 10)) * 1000);
})();
