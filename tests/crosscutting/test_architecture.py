"""The dependency rule of the feature packages, read from the imports of app/ (docs/architecture.md).

- no cycle between feature packages;
- nothing in ``app.core`` or ``app.models`` imports a feature;
- no feature imports another feature's ``*_views`` modules;
- a service never imports a jobs module (jobs are queued by dotted name);
- outside ``app.messaging``, only ``app.messaging.notify`` is imported;
- no feature (nor core, nor models) imports the app's shell (``app.demo``, ``app.cli``, ...).

Every import counts, a function's own included. ``KNOWN`` lists what the tree still breaks: each
is to be mended and struck off; a new breach, or a mended one still listed, fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
BASE = {"core", "models"}
# packages that hold a blueprint (their views live in the features as *_views; privacy's
# routes module is still its own), and the app's own shell
AUDIENCES = {"parents", "teachers", "office", "privacy"}
SHELL = {"app", "app.cli", "app.views", "app.demo", "app.devrun", "app.dev_postgres"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports() -> dict[str, set[str]]:
    """Module -> the app modules it imports (``from a import b`` is ``a.b`` where that is one)."""
    modules = {module_name(p): p for p in APP.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("app."))
            elif (
                isinstance(node, ast.ImportFrom)
                and not node.level
                and node.module
                and (node.module == "app" or node.module.startswith("app."))
            ):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    targets.add(full if full in modules else node.module)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def unit(module: str) -> str | None:
    """The package a module belongs to: 'core', 'models', a feature, or None (the shell)."""
    parts = module.split(".")
    if module in SHELL or len(parts) < 2:
        return None
    if parts[1] in AUDIENCES and len(parts) == 2:
        return None  # the blueprint object alone
    if parts[1] == "jobs":
        return None  # the cron schedule, the sweep and the old job paths: span features
    if parts[1] == "dataprotection" and len(parts) > 3:
        return "dataprotection." + parts[2]
    return parts[1] if len(parts) > 2 or (APP / parts[1]).is_dir() else None


def is_feature(u: str | None) -> bool:
    return u is not None and u not in BASE


def is_view(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last.endswith("_views") or module.split(".")[1] in AUDIENCES


def is_jobs(module: str) -> bool:
    return module.rsplit(".", 1)[-1] == "jobs" and module != "app.core.jobs"


def is_service(module: str) -> bool:
    if not is_feature(unit(module)) or is_view(module) or is_jobs(module):
        return False
    return True


def breaches() -> dict[str, set[str]]:
    graph = read_imports()
    found: dict[str, set[str]] = {
        k: set()
        for k in (
            "cycle",
            "base imports a feature",
            "another feature's views",
            "service imports jobs",
            "messaging internals",
            "feature imports the shell",
        )
    }
    edges: dict[str, set[str]] = {}
    for src, targets in graph.items():
        su = unit(src)
        for dst in targets:
            du = unit(dst)
            if (is_feature(su) or su in BASE) and dst in SHELL - {"app"}:  # create_app is for all
                found["feature imports the shell"].add(f"{src} -> {dst}")
            if su in BASE and du not in BASE and du is not None:
                found["base imports a feature"].add(f"{src} -> {dst}")
            if is_feature(su) and is_feature(du) and su != du:
                edges.setdefault(su, set()).add(du)
                if dst.rsplit(".", 1)[-1].endswith("_views"):
                    found["another feature's views"].add(f"{src} -> {dst}")
            if is_service(src) and is_jobs(dst):
                found["service imports jobs"].add(f"{src} -> {dst}")
            if (
                dst.startswith("app.messaging.")
                and dst != "app.messaging.notify"
                and su != "messaging"
                and su is not None
            ):
                found["messaging internals"].add(f"{src} -> {dst}")
    # cycles between feature packages: each strongly connected group of two or more
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:  # every arrow inside the group lies on a cycle
                found["cycle"].update(f"{a} -> {b}" for a in group for b in edges.get(a, ()) if b in group)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


# What the tree breaks today: mend, then strike off.
KNOWN: dict[str, set[str]] = {
    "cycle": set(),  # the package arrows that lie on a cycle, with the imports behind them
    "base imports a feature": set(),
    "another feature's views": set(),
    "service imports jobs": set(),
    "feature imports the shell": set(),
    "messaging internals": set(),
}


@pytest.mark.parametrize("rule", sorted(KNOWN))
def test_the_dependency_rule_holds(rule):
    found = breaches()[rule]
    assert sorted(found - KNOWN[rule]) == [], f"new breaches of '{rule}'"
    assert sorted(KNOWN[rule] - found) == [], f"mended: strike these off KNOWN['{rule}']"


def test_the_rule_sees_a_breach():
    """The reader finds imports made inside functions and in every form the code uses."""
    graph = read_imports()
    assert "app.core.extensions" in graph["app.models.people"]
    assert any(t.startswith("app.auth.") for t in graph["app"])
    assert unit("app.dataprotection.exports.service") == "dataprotection.exports"
    assert is_jobs("app.learning.jobs") and not is_jobs("app.core.jobs")
    assert is_service("app.learning.topics") and not is_service("app.auth.signin_views")
    assert unit("app.office") is None and unit("app.families.office_home_views") == "families"


def _commits(tree: ast.AST) -> bool:
    """Whether the module calls ``<anything>.commit()``."""
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
        for node in ast.walk(tree)
    )


def test_no_view_commits():
    """Services own the write and its commit; a view module never commits."""
    views = sorted(APP.rglob("*_views.py"))
    assert len(views) > 20  # the views are where this looks for them
    committing = [str(p.relative_to(ROOT)) for p in views if _commits(ast.parse(p.read_text()))]
    assert committing == []
    assert _commits(ast.parse("db.session.commit()"))  # and the check sees a commit
