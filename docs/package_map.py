"""Draw docs/packages.svg: Hometime's packages and the imports between them, read from the code.

The arrows are the imports that ``tests/crosscutting/test_architecture.py`` reads to check the
dependency rule (docs/architecture.md): a feature package points at what it imports. Packages are
drawn in layers, ``core`` and ``models`` at the bottom, each package above everything it imports,
so an arrow that points upwards would be a breach of the rule. The file is generated, not drawn by
hand; a test fails when it no longer matches the code.

    .venv/bin/python docs/package_map.py          # print the SVG
    .venv/bin/python docs/package_map.py --write  # rewrite docs/packages.svg
"""

from __future__ import annotations

import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.crosscutting.test_architecture import BASE, read_imports, unit  # noqa: E402

OUT = ROOT / "docs" / "packages.svg"
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 200, 44, 24, 60, 20


def package_graph() -> tuple[dict[str, int], dict[str, set[str]]]:
    """Package -> number of modules, and package -> the packages it imports."""
    sizes: dict[str, int] = {}
    edges: dict[str, set[str]] = {}
    for src, targets in read_imports().items():
        su = unit(src)
        if su is None:
            continue
        sizes[su] = sizes.get(su, 0) + 1
        for dst in targets:
            du = unit(dst)
            if du is not None and du != su:
                edges.setdefault(su, set()).add(du)
    return sizes, edges


def layers(names: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """The base (core and models, which import each other) is the bottom layer; each feature
    sits one layer above the highest feature it imports (a cycle, which the rule forbids, is cut)."""
    level: dict[str, int] = {name: 0 for name in names if name in BASE}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name not in level:
            below = [d for d in sorted(edges.get(name, ())) if d in names and d not in seen and d not in BASE]
            level[name] = 1 + max((depth(d, seen | {name}) for d in below), default=0)
        return level[name]

    for n in names:
        depth(n, frozenset())
    out: list[list[str]] = [[] for _ in range(max(level.values()) + 1)]
    for n in sorted(names):
        out[level[n]].append(n)
    return out


def svg() -> str:
    sizes, edges = package_graph()
    rows = layers(sorted(sizes), edges)
    widest = max(len(r) for r in rows)
    width = max(MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X, 640)
    height = MARGIN * 2 + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y + 24
    pos: dict[str, tuple[float, float]] = {}
    for i, row in enumerate(rows):
        y = height - MARGIN - 24 - (i + 1) * BOX_H - i * GAP_Y
        row_w = len(row) * BOX_W + (len(row) - 1) * GAP_X
        x0 = (width - row_w) / 2
        for j, name in enumerate(row):
            pos[name] = (x0 + j * (BOX_W + GAP_X), y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">',
        "  <title>Hometime's packages and their imports</title>",
        "  <desc>Generated from the imports in app/ by docs/package_map.py. Each box is a package; "
        "an arrow points from a package to one it imports. core and models are at the bottom and "
        "import no feature.</desc>",
        '  <defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#555"/></marker></defs>',
    ]
    for src in sorted(edges):
        for dst in sorted(edges[src]):
            if src not in pos or dst not in pos or dst in BASE:
                continue  # every package may import the base: those arrows are left out
            sx, sy = pos[src]
            dx, dy = pos[dst]
            x1, y1 = sx + BOX_W / 2, sy + BOX_H
            x2, y2 = dx + BOX_W / 2, dy
            if dy <= sy:  # same layer or upwards: would be a breach; draw it red and curved
                parts.append(
                    f'  <path d="M{x1:.0f} {sy:.0f} Q{(x1 + x2) / 2:.0f} {sy - 40:.0f} {x2:.0f} {dy:.0f}" '
                    'fill="none" stroke="#b00020" stroke-width="1.5" marker-end="url(#a)"/>'
                )
            else:
                parts.append(
                    f'  <line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#888" '
                    'stroke-width="1" marker-end="url(#a)"/>'
                )
    for name, (x, y) in sorted(pos.items()):
        fill = "#e8eef7" if name in BASE else "#fff6e0"
        parts.append(
            f'  <rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#333"/>'
        )
        parts.append(
            f'  <text x="{x + BOX_W / 2:.0f}" y="{y + 27:.0f}" text-anchor="middle" font-weight="bold">'
            f"{escape(name)}</text>"
        )
    parts.append(
        f'  <text x="{MARGIN}" y="{height - MARGIN + 4:.0f}" fill="#444">An arrow: "imports". '
        "Blue: the base (core and models); every package may import it (those arrows are not drawn).</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    text = svg()
    if "--write" in sys.argv:
        OUT.write_text(text)
        print(f"wrote {OUT.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
