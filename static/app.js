/* Hometime's one small script. Everything works without it; it only makes things nicer. */
(function () {
  "use strict";
  // Move focus to the main heading after a boosted page change, for screen-reader users.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail && e.detail.boosted) {
      var main = document.getElementById("main");
      if (main) { main.focus(); }
    }
  });
})();
