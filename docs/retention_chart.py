"""Draw docs/retention-bench.svg: seconds of the nightly retention run against rows, from the
figures ``make bench`` printed (``bench/bench_retention.py``), with a straight line through the
origin and the full-size point, so a reader sees whether time grows linearly.

    .venv/bin/python docs/retention_chart.py   # after copying a new run's figures into FIGURES
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent / "retention-bench.svg"
BUDGET = 30  # seconds, issue 6
# (label, rows = parents + engagements + log rows, wall seconds, CPU seconds app + PostgreSQL)
FIGURES = [
    ("quarter", 525_000, 3.4, 2.7),
    ("half", 1_050_000, 4.8, 4.4),
    ("full", 2_100_000, 9.8, 8.1),
]
W, H, LEFT, RIGHT, TOP, BOTTOM = 560, 340, 56, 24, 44, 48
X_MAX, Y_MAX = 2_400_000, 32


def _x(rows: float) -> float:
    return LEFT + rows / X_MAX * (W - LEFT - RIGHT)


def _y(seconds: float) -> float:
    return H - BOTTOM - seconds / Y_MAX * (H - TOP - BOTTOM)


def svg() -> str:
    base = H - BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" font-family="sans-serif" font-size="12">',
        "<title>Retention run: seconds against rows (make bench)</title>",
        f'<rect width="{W}" height="{H}" fill="#fff"/>',
        f'<line x1="{LEFT}" y1="{base}" x2="{W - RIGHT}" y2="{base}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#333"/>',
    ]
    for rows in range(0, X_MAX + 1, 500_000):
        text = f"{rows / 1e6:g}M" if rows else "0"
        out.append(f'<text x="{_x(rows):.1f}" y="{base + 16}" text-anchor="middle">{text}</text>')
    for seconds in range(0, Y_MAX + 1, 10):
        out.append(f'<text x="{LEFT - 6}" y="{_y(seconds) + 4:.1f}" text-anchor="end">{seconds} s</text>')
    out.append(
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 10}" text-anchor="middle">rows '
        "(parents + engagements + activity-log rows)</text>"
    )
    out.append(
        f'<line x1="{LEFT}" y1="{_y(BUDGET):.1f}" x2="{W - RIGHT}" y2="{_y(BUDGET):.1f}" '
        'stroke="#c00" stroke-dasharray="6 4"/>'
    )
    out.append(
        f'<text x="{W - RIGHT}" y="{_y(BUDGET) - 6:.1f}" text-anchor="end" fill="#c00">'
        f"budget {BUDGET} s</text>"
    )
    _, rows, wall, _ = FIGURES[-1]
    out.append(
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(X_MAX):.1f}" '
        f'y2="{_y(wall / rows * X_MAX):.1f}" stroke="#888" stroke-dasharray="3 3"/>'
    )
    for label, rows, wall, cpu in FIGURES:
        out.append(f'<circle cx="{_x(rows):.1f}" cy="{_y(wall):.1f}" r="5" fill="#1f5fa8"/>')
        out.append(
            f'<circle cx="{_x(rows):.1f}" cy="{_y(cpu):.1f}" r="5" fill="none" '
            'stroke="#1f5fa8" stroke-width="2"/>'
        )
        out.append(f'<text x="{_x(rows) + 8:.1f}" y="{_y(wall) - 8:.1f}">{label}: {wall:g} s</text>')
    legend = 16
    out += [
        f'<circle cx="{LEFT + 16}" cy="{legend}" r="5" fill="#1f5fa8"/>',
        f'<text x="{LEFT + 26}" y="{legend + 4}">wall time</text>',
        f'<circle cx="{LEFT + 106}" cy="{legend}" r="5" fill="none" stroke="#1f5fa8" stroke-width="2"/>',
        f'<text x="{LEFT + 116}" y="{legend + 4}">CPU time (app + PostgreSQL)</text>',
        f'<line x1="{LEFT + 300}" y1="{legend}" x2="{LEFT + 324}" y2="{legend}" stroke="#888" '
        'stroke-dasharray="3 3"/>',
        f'<text x="{LEFT + 330}" y="{legend + 4}">linear through full size</text>',
        "</svg>",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    OUT.write_text(svg())
    print(f"wrote {OUT}")
