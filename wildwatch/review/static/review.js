// Keyboard shortcuts: 1-4 decide on the item shown, n takes the next item. Not while typing in a field.
document.addEventListener("keydown", function (event) {
  var tag = (event.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || event.ctrlKey || event.metaKey || event.altKey) return;
  var button = null;
  if (event.key === "n") button = document.getElementById("next");
  else button = document.querySelector('#decide button[data-key="' + event.key + '"]');
  if (button) { event.preventDefault(); button.click(); }
});
