"""Stored files no row refers to, deleted (cron, nightly): see ``app.core.storage.sweep_orphans``."""

from __future__ import annotations

from app.core import storage
from app.core.jobs import job


@job
def sweep_orphans() -> int:
    """Delete orphan files at least a day old; returns how many."""
    return storage.sweep_orphans()
