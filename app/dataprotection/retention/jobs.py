"""The nightly retention run (P15, P17, P19, P20, P21), enqueued by the cron scheduler."""

from __future__ import annotations

from app.core.jobs import job
from app.dataprotection.retention import rules as retention


@job
def nightly() -> dict[str, int]:
    """Run every retention rule as of now; each records its own summary."""
    return retention.run_all()


@job
def run_one(rule_name: str) -> int:
    """Run a single rule by name as of now."""
    rule = next(r for r in retention.RULES if r.name == rule_name)
    return retention.run_rule(rule, retention.as_of_datetime(None))
