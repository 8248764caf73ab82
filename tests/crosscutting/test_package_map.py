"""docs/packages.svg is drawn from the code's imports: it must match the code as it is."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _package_map():
    spec = importlib.util.spec_from_file_location("package_map", ROOT / "docs" / "package_map.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_picture_matches_the_imports():
    package_map = _package_map()
    assert package_map.OUT.read_text() == package_map.svg(), (
        "docs/packages.svg is out of date: run .venv/bin/python docs/package_map.py --write"
    )


def test_the_picture_draws_core_and_models_below_every_feature():
    package_map = _package_map()
    sizes, edges = package_map.package_graph()
    rows = package_map.layers(sorted(sizes), edges)
    base_rows = {i for i, row in enumerate(rows) for name in row if name in {"core", "models"}}
    feature_rows = {i for i, row in enumerate(rows) for name in row if name not in {"core", "models"}}
    assert "learning" in sizes and "families" in sizes
    assert max(base_rows) < min(feature_rows), rows
