"""docs/privacy-promises.md cannot drift from the tests (shared/PROMISES.md: a promise with no test
is a promise not kept).

The table there has one row per promise P01-P31: id | promise | where it is enforced | the tests
that prove it, as ``tests/<file>.py::<test>`` (or ``tests/<file>.py`` for a module whose
``pytestmark`` names the promise), or "not yet (issue N)". This test reads the markers from the
test sources at run time, so it also holds while tests are being added.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "privacy-promises.md"
IDS = [f"P{n:02d}" for n in range(1, 32)]
REF = re.compile(r"(tests/[\w/]+\.py)(?:::([\w:]+))?")
ROW = re.compile(r"^\|\s*\**(P\d\d)\**\s*\|")


def _doc_rows() -> dict[str, str]:
    """Promise id -> the text of its table row."""
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found:
            rows.setdefault(found.group(1), []).append(line)
    duplicated = sorted(pid for pid, lines in rows.items() if len(lines) > 1)
    assert duplicated == [], f"promises with more than one row: {duplicated}"
    return {pid: lines[0] for pid, lines in rows.items()}


def _promise_ids(decorators) -> list[str]:
    ids = []
    for node in decorators:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "promise"
        ):
            ids += [a.value for a in node.args if isinstance(a, ast.Constant)]
    return ids


def _sources() -> dict[str, ast.Module]:
    """Every test module, parsed, by its path relative to the project."""
    return {
        p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "tests").rglob("test_*.py"))
    }


def _tests_in(module: ast.Module) -> dict[str, list[str]]:
    """Test name (``test_x`` or ``TestClass::test_x``) -> the promise ids its markers name."""
    found: dict[str, list[str]] = {}
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            found[node.name] = _promise_ids(node.decorator_list)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    found[f"{node.name}::{item.name}"] = _promise_ids(node.decorator_list) + _promise_ids(
                        item.decorator_list
                    )
    return found


def _module_marks(module: ast.Module) -> list[str]:
    """Promise ids a module's ``pytestmark`` names (they apply to every test in it)."""
    ids = []
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            ids += _promise_ids(values)
    return ids


def test_the_table_has_one_row_for_every_promise():
    rows = _doc_rows()
    assert sorted(rows) == IDS
    for pid, row in rows.items():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 4, f"{pid}: expected id | promise | enforced in | proved by"
        assert cells[3], f"{pid}: say which tests prove it, or 'not yet (issue N)'"
        assert REF.search(cells[3]) or cells[3].lower().startswith("not yet"), pid


def test_every_test_the_table_names_exists():
    sources = _sources()
    missing = []
    for pid, row in _doc_rows().items():
        for path, name in REF.findall(row):
            if path not in sources:
                missing.append(f"{pid}: {path} does not exist")
            elif name and name not in _tests_in(sources[path]):
                missing.append(f"{pid}: {path} has no test {name}")
    assert missing == []


def test_every_test_marked_with_a_promise_is_listed_under_it():
    rows = _doc_rows()
    unlisted = []
    for path, module in _sources().items():
        for name, ids in _tests_in(module).items():
            for pid in ids:
                refs = REF.findall(rows.get(pid, ""))
                if (path, name) not in refs and (path, "") not in refs:
                    unlisted.append(f"{path}::{name} proves {pid} but is not listed under it")
        for pid in _module_marks(module):
            if not any(ref_path == path for ref_path, _ in REF.findall(rows.get(pid, ""))):
                unlisted.append(f"{path} (pytestmark) proves {pid} but is not listed under it")
    assert unlisted == [], "update docs/privacy-promises.md:\n" + "\n".join(unlisted)
