"""Deletions the store missed, retried, and stored files no row refers to, deleted (cron,
nightly): see ``app.core.storage.retry_deletions`` and ``sweep_orphans``."""

from __future__ import annotations

from app.core import storage
from app.core.jobs import job


@job
def sweep_orphans() -> int:
    """Retry the recorded deletions the store has not confirmed, then delete orphan files at
    least a day old; returns how many files were deleted."""
    return storage.retry_deletions() + storage.sweep_orphans()
