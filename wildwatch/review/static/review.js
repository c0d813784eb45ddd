// Keyboard shortcuts: 1-4 decide on the item shown, n takes the next item, p shows the next photo large
// (Escape closes it). Not while typing in a field.
document.addEventListener("keydown", function (event) {
  var tag = (event.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || event.ctrlKey || event.metaKey || event.altKey) return;
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
  else button = document.querySelector('#decide button[data-key="' + event.key + '"]');
  if (button) { event.preventDefault(); button.click(); }
});
