"""axe-core in the page a person sees: the copy of axe-core that axe-playwright-python ships, so the
suite needs no npm and no network. Every WCAG 2.x A/AA rule runs, target size (2.5.8) included."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
}


def axe_violations(page) -> list[str]:
    """One line per violated rule: its id, what it asks, and up to five offending elements."""
    response = _AXE.run(page, options=_OPTIONS).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in response["violations"]
    ]


def assert_no_axe_violations(page, where: str = "") -> None:
    found = axe_violations(page)
    assert not found, f"axe-core on {where or page.url}:\n" + "\n".join(found)
