"""Building access exports (P22) in the worker."""

from __future__ import annotations

import logging

from app.core.jobs import job

log = logging.getLogger(__name__)


@job
def build_export(export_id: int) -> str | None:
    """Build and store an export's encrypted zip. Safe to run twice: an export already built
    (waiting for review, ready) or expired is left alone; a failed one is built again."""
    from app.dataprotection.exports.service import build

    state = build(export_id)
    log.info("export %s: %s", export_id, state.value if state else "not found")
    return state.value if state else None
