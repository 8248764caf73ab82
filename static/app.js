/* Hometime's one small script. Everything works without it; it only makes things nicer. */
(function () {
  "use strict";
  // The control a person used for a partial swap (a face, a "Turn off" button), to give focus
  // back to the same control in the new content: otherwise focus drops to the page.
  var used = null;
  document.addEventListener("htmx:beforeRequest", function (e) {
    var el = document.activeElement;
    used = null;
    if (el && el !== document.body && e.detail && !e.detail.boosted) {
      used = { id: el.id, name: el.getAttribute("name"), value: el.getAttribute("value"),
               action: el.form ? el.form.getAttribute("action") : null };
    }
  });
  function same(u) {
    if (u.id) { return document.getElementById(u.id); }
    if (!u.name || !u.action) { return null; }
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("action") !== u.action) { continue; }
      var c = forms[i].elements[u.name];
      if (c && c.length !== undefined && !c.tagName) {
        for (var j = 0; j < c.length; j++) { if (c[j].getAttribute("value") === u.value) { return c[j]; } }
      } else if (c) { return c; }
    }
    return null;
  }
  // The answer shows around the control (a question, a confirmation in its card): bring the
  // smallest box holding both into view, whether or not focus moved (htmx may keep it).
  function reveal(el) {
    var box = el.closest(".banner") || el.closest(".card") || el;
    if (box.getBoundingClientRect().height > window.innerHeight) { box = el; }
    var r = box.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) { box.scrollIntoView({ block: "nearest" }); }
  }
  // A boosted page change swaps only the body: take the new page's language and direction from
  // its <html> element too, or a page in Urdu would keep an English page's lang and run left to
  // right (joining from a letter: the code page speaks the browser's language, the next one the
  // family's).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d || !d.boosted || !d.shouldSwap || !d.xhr) { return; }
    var tag = /<html\b[^>]*>/i.exec(d.xhr.responseText || "");
    if (!tag) { return; }
    ["lang", "dir"].forEach(function (name) {
      var found = new RegExp("\\s" + name + "=\"([^\"]*)\"", "i").exec(tag[0]);
      if (found) { document.documentElement.setAttribute(name, found[1]); }
    });
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail && e.detail.boosted) {
      // Move focus to the main content after a boosted page change, for screen-reader users.
      var main = document.getElementById("main");
      if (main) { main.focus(); }
      return;
    }
    var focused = document.activeElement;
    if (used && (!focused || focused === document.body || !document.contains(focused))) {
      var again = same(used);
      if (again) { again.focus(); }
    }
    if (used && document.activeElement && document.activeElement !== document.body) {
      reveal(document.activeElement);
    }
    used = null;
  });
})();
