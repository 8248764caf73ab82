"""Benchmarks: ``python -m bench`` (``make bench``) prints every figure in one table.

Each ``bench/bench_<area>.py`` has ``run(app) -> list[dict]`` returning rows
``{"area", "measure", "value", "unit", "budget"}``. Speed and size budgets live here, never as
timed assertions in tests.
"""
