"""The breach log's reminders (P29): the data protection officer hears at 24, 48 and 66 hours."""

from __future__ import annotations

import logging
from datetime import datetime

from app.core.jobs import job

log = logging.getLogger(__name__)


@job
def remind_dpo_of_breaches(now: str | None = None) -> int:
    """Cron, every 15 minutes: remind the DPO of undecided breaches at 24, 48 and 66 hours after
    the school became aware; each reminder exactly once (``Breach.reminders_sent``). ``now``
    (an ISO date-time with its offset) replays a given moment. Returns breaches reminded about."""
    from app.compliance.breaches.service import send_reminders

    moment = datetime.fromisoformat(now) if now else None
    sent = send_reminders(moment)
    log.info("breach reminders sent: %s", sent)
    return sent
