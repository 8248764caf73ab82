"""The cron schedule: every periodic job, in one place, run by RQ's own CronScheduler."""
from __future__ import annotations

from app.jobs import maintenance

# (function, cron expression in UTC, queue)
SCHEDULE = [
    (maintenance.purge_expired_tokens, "17 * * * *", "default"),
]


def build_scheduler(connection):
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=connection, name="hometime-cron")
    for func, cron, queue in SCHEDULE:
        scheduler.register(func, queue_name=queue, cron=cron, job_timeout=3600)
    return scheduler
