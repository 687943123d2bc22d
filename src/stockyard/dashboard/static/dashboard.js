// The dashboard's small script: the theme switch. Panels are swapped by htmx on the page's
// one event stream; nothing here keeps state of its own.
(function () {
  "use strict";
  var order = ["auto", "light", "dark"];
  function toggle() {
    var root = document.documentElement;
    var next = order[(order.indexOf(root.dataset.theme || "auto") + 1) % order.length];
    root.dataset.theme = next;
    document.cookie = "stockyard_theme=" + next + "; path=/; SameSite=Strict; max-age=31536000";
    document.dispatchEvent(new CustomEvent("stockyard:theme", { detail: next }));
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (button) { button.addEventListener("click", toggle); }
  });
})();
