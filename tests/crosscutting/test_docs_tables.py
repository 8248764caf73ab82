"""The tables in README.md and docs/architecture.md are generated from the code (docs/tables.py):
a new setting, periodic job or inventory table must reach the docs. To fix a failure, run
``.venv/bin/python docs/tables.py --write`` (and describe a new setting in its MEANINGS)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tables():
    spec = importlib.util.spec_from_file_location("docs_tables", ROOT / "docs" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLES = _tables()


@pytest.mark.parametrize(
    "path, marker, make", TABLES.SECTIONS, ids=[marker for _, marker, _ in TABLES.SECTIONS]
)
def test_generated_table_is_up_to_date(path, marker, make):
    assert TABLES.section(path, marker) == make(), (
        f"{path.name}: the {marker} is out of date; run .venv/bin/python docs/tables.py --write"
    )


def test_every_setting_is_described():
    undescribed = [row[0] for row in TABLES.rows() if row[3].startswith("NOT DESCRIBED")]
    assert undescribed == [], "describe these in MEANINGS in docs/tables.py"
