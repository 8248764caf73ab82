"""``python -m bench [area ...]``: run every ``bench/bench_<area>.py`` and print one table.

Each module runs in a process of its own, started afresh (so a memory figure is that module's
own, not what the modules before it left in the process), and its ``run(app)`` gets its own fresh
app (``bench.env.bench_app``), so a module never sees another's data and each keeps working
alone; a ``run()`` without parameters is called as it is. Rows over budget are marked, but
nothing is asserted: over budget still exits 0. A module that crashes is reported (traceback on
stderr, an ERROR row, counted in the last line) and makes the exit status 1.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench import env

HERE = Path(__file__).resolve().parent
COLUMNS = ("area", "measure", "value", "unit", "budget", "verdict")


def discover(areas: list[str]) -> list[str]:
    """Module names ``bench.bench_<area>``, all of them or only the areas asked for."""
    found = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if not areas:
        return [f"bench.{name}" for name in found]
    wanted = {a.removeprefix("bench_").removesuffix(".py") for a in areas}
    unknown = wanted - {name.removeprefix("bench_") for name in found}
    if unknown:
        known = ", ".join(n.removeprefix("bench_") for n in found)
        raise SystemExit(f"no benchmark for {', '.join(sorted(unknown))} (known: {known})")
    return [f"bench.{name}" for name in found if name.removeprefix("bench_") in wanted]


def _in_own_process(name: str) -> list[dict]:
    """``env.run_module(name)`` in a new Python process, its rows sent back (an exception too)."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=env.quiet_logging) as pool:
        return pool.submit(env.run_module, name).result()


def verdict(row: dict) -> str:
    budget, value = row.get("budget"), row.get("value")
    if row.get("error"):
        return "ERROR"
    if budget is None:
        return "no budget"
    if value is None:
        return "not measured"
    return "within budget" if value <= budget else "OVER budget"


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict]) -> str:
    """The rows as one plain-text table with a verdict column."""
    cells = [
        [
            _fmt(r.get("area")),
            _fmt(r.get("measure")),
            _fmt(r.get("value")),
            _fmt(r.get("unit")),
            _fmt(r.get("budget")),
            verdict(r),
        ]
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
    right = {2, 4}

    def line(cols):
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cols, widths, strict=True))
        ).rstrip()

    out = [line(COLUMNS), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return "\n".join(out)


def interpreter() -> str:
    """Which Python runs the benchmarks (the one .venv was made from): the figures depend on how
    it was compiled (the Makefile's PYTHON, docs/performance.md)."""
    return f"Python {sys.version.split()[0]} ({getattr(sys, '_base_executable', sys.executable)})"


def main(argv: list[str]) -> int:
    env.quiet_logging()
    print(f"Benchmarks on {interpreter()}", file=sys.stderr, flush=True)
    rows: list[dict] = []
    failed = False
    for name in discover(argv):
        started = time.perf_counter()
        print(f"{name}: running", file=sys.stderr, flush=True)
        try:
            rows += _in_own_process(name)
        except Exception as exc:  # noqa: BLE001 - report and carry on with the other modules
            failed = True
            traceback.print_exc()
            rows.append(
                {
                    "area": name.removeprefix("bench.bench_"),
                    "measure": f"crashed: {exc}",
                    "value": None,
                    "unit": "",
                    "budget": None,
                    "error": True,
                }
            )
        print(f"{name}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(f"On {interpreter()}.")
    print(table(rows))
    over = sum(verdict(r) == "OVER budget" for r in rows)
    crashed = sum(verdict(r) == "ERROR" for r in rows)
    print(f"\n{len(rows)} figures, {over} over budget, {crashed} from a module that crashed (ERROR).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
