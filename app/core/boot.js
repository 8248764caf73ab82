/* Inlined in every page's <head> (app/core/assets.py; the CSP allows it by its hash), so it is
   short. The page is drawn before htmx and app.js are asked for: on a slow line their 16 KB
   would otherwise share the first round trips with the page and its stylesheet. A form or play
   link used before they arrive waits for them, then goes ahead as if they had been there; if
   they cannot load, it goes ahead as a plain page load, as with JavaScript off. */
(function () {
  var d = document, me = d.currentScript, state = 0, held = [], drawn = 0;
  function ready() {
    state = 2;
    held.forEach(function (h) { if (d.contains(h[0])) { h[1](); } });
    held = [];
  }
  function start() {
    var urls = [me.dataset.app, me.dataset.htmx], left = 2;
    state = 1;
    urls.forEach(function (url) {
      var s = d.createElement("script");
      s.src = url;
      s.async = false; // in this order: app.js's listeners before htmx's first request
      s.onload = s.onerror = function () { if (!--left) { ready(); } };
      d.head.appendChild(s);
    });
  }
  // Once drawn (its first paint) and loaded: htmx starts at once only in a complete document.
  // A browser that reports no paint, or a tab in the background, starts a second after load.
  function go() { if (drawn && !state && d.readyState == "complete") { start(); } }
  try {
    new PerformanceObserver(function (list) {
      if (list.getEntriesByName("first-contentful-paint").length) { drawn = 1; go(); }
    }).observe({ type: "paint", buffered: true });
  } catch (e) { drawn = 1; }
  addEventListener("load", function () { go(); setTimeout(function () { drawn = 1; go(); }, 1000); });
  function hold(e, el, again) {
    if (state < 2 && el && !e.defaultPrevented) {
      e.preventDefault();
      held = held.filter(function (h) { return h[0] != el; }); // tapped again: the last one counts
      held.push([el, again]);
    }
  }
  d.addEventListener("submit", function (e) {
    var form = e.target, by = e.submitter || d.activeElement;
    if (form.matches("form[hx-post],form[hx-get]")) {
      hold(e, form, function () { by && by.form == form ? by.click() : (form.requestSubmit || form.submit).call(form); });
    }
  }, true);
  d.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[hx-get]");
    if (!e.button && !e.ctrlKey && !e.metaKey && !e.shiftKey && !e.altKey) {
      hold(e, a, function () { a.click(); });
    }
  }, true);
})();
