"""Reading pages the way a browser (and a screen reader) would, with the standard html.parser."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from app.core.security import CSP

# The inline scripts the CSP allows, by the hashes in its script-src (the layout's loader).
ALLOWED_SCRIPTS = {
    part.strip("'")
    for part in next(d for d in CSP.split("; ") if d.startswith("script-src ")).split()
    if part.startswith("'sha256-")
}

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict
    parent: Element | None
    children: list = field(default_factory=list)
    text: str = ""

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class Page(HTMLParser):
    """A parsed page: every element (with its attributes and text) and CSP-relevant findings."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.elements: list[Element] = []
        self.inline_scripts: list[str] = []
        self.style_attributes: list[str] = []
        self.handler_attributes: list[str] = []
        self.style_elements = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: (value or "") for name, value in attrs}
        element = Element(tag, attributes, self.current)
        self.current.children.append(element)
        self.elements.append(element)
        for name in attributes:
            if name == "style":
                self.style_attributes.append(f"<{tag} style={attributes[name]!r}>")
            if name.startswith("on") or name.startswith("hx-on") or name.startswith("data-hx-on"):
                self.handler_attributes.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.style_elements += 1
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data
        if self.current.tag == "script" and data.strip():
            digest = "sha256-" + base64.b64encode(hashlib.sha256(data.encode()).digest()).decode()
            if digest in ALLOWED_SCRIPTS:
                self.current.attrs["allowed-by-hash"] = digest
            else:
                self.inline_scripts.append(data.strip()[:80])

    # --- queries --------------------------------------------------------------------------------

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, **attrs) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, element_id: str) -> Element | None:
        return next((e for e in self.elements if e.attrs.get("id") == element_id), None)

    def csp_violations(self) -> list[str]:
        """Inline scripts, <script> without src, style attributes and elements, on* handlers."""
        problems = [f"inline script: {s}" for s in self.inline_scripts]
        problems += [
            "script without src"
            for e in self.find_all("script")
            if not e.attrs.get("src") and not e.attrs.get("allowed-by-hash")
        ]
        problems += self.style_attributes + self.handler_attributes
        problems += ["<style> element"] * self.style_elements
        return problems

    def unsized_images(self) -> list[str]:
        """Images without both width and height: the page jumps as they load."""
        return [
            f"<img src={e.attrs.get('src')!r}> without width and height"
            for e in self.find_all("img")
            if not (e.attrs.get("width") and e.attrs.get("height"))
        ]

    def unlabelled_fields(self) -> list[str]:
        """Form fields a screen reader could not name."""
        labelled = {e.attrs.get("for") for e in self.find_all("label")}
        missing = []
        for e in self.elements:
            if e.tag not in ("input", "select", "textarea"):
                continue
            if e.tag == "input" and e.attrs.get("type") in ("hidden", "submit", "button", "reset", "image"):
                continue
            if (
                e.attrs.get("id") in labelled
                or e.attrs.get("aria-label")
                or e.attrs.get("aria-labelledby")
                or any(a.tag == "label" for a in e.ancestors())
            ):
                continue
            missing.append(f"<{e.tag} name={e.attrs.get('name')!r}>")
        return missing


# Words that are English and not Polish (nor Urdu): found outside a lang="en-..." element on a page
# in Polish, they are words nobody translated.
ENGLISH_MARKERS = frozenset(
    "the your you and with this for our has have are is of will can what which when here "
    "there been from about please".split()
)
SPOKEN_ATTRIBUTES = ("aria-label", "alt", "placeholder", "title")


_TOKENS = re.compile(
    r'(name="csrf_token" type="hidden" value=|name="csrf_token" value=|"X-CSRFToken": )"[^"]*"'
)


def without_tokens(html: str) -> str:
    """``html`` with its CSRF tokens (the layout's ``hx-headers``, each form's hidden field) left
    out: random letters, in which "R1" or "Cal" turns up now and then, so a test saying a page
    does not show them would otherwise fail by chance."""
    return _TOKENS.sub(r'\1""', html)


def untranslated(html: str) -> list[str]:
    """The bits of a page a person reads or hears that still contain English words, leaving out
    what is marked as written in English (``lang="en-GB"``: the school's own words, a language's
    own name) and scripts."""
    found: list[str] = []

    def visit(element: Element) -> None:
        lang = element.attrs.get("lang", "")
        if lang.startswith("en") or element.tag in ("script", "style", "code"):
            return
        pieces = [element.text] + [element.attrs.get(a, "") for a in SPOKEN_ATTRIBUTES]
        if element.tag == "input" and element.attrs.get("type") in ("submit", "button"):
            pieces.append(element.attrs.get("value", ""))
        for piece in pieces:
            words = {w.casefold() for w in piece.replace("'", " ").split()}
            if words & ENGLISH_MARKERS:
                found.append(" ".join(piece.split())[:120])
        for child in element.children:
            visit(child)

    visit(Page(html).root)
    return found
