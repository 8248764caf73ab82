"""The cron schedule: every periodic job, in one place, run by RQ's own CronScheduler."""

from __future__ import annotations

from app.compliance.breaches import jobs as breaches
from app.dataprotection.requests import jobs as privacy
from app.dataprotection.retention import jobs as retention
from app.jobs import recovery
from app.jobs import storage as stored_files
from app.learning import jobs as topics
from app.messaging import jobs as notifications

# (function, cron expression in UTC, queue)
SCHEDULE = [
    (retention.nightly, "30 2 * * *", "default"),
    (topics.topic_schedule, "* * * * *", "default"),
    (privacy.remind_office_of_due_requests, "5 7 * * *", "default"),
    (breaches.remind_dpo_of_breaches, "*/15 * * * *", "default"),
    (notifications.sweep_deliveries, "*/5 * * * *", "default"),
    (recovery.requeue_lost_jobs, "*/5 * * * *", "default"),
    (stored_files.sweep_orphans, "45 3 * * *", "default"),
    (notifications.send_weekly_digests, "0 15 * * 5", "default"),  # Friday afternoon
]


def build_scheduler(connection):
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=connection, name="hometime-cron")
    for func, cron, queue in SCHEDULE:
        scheduler.register(func, queue_name=queue, cron=cron, job_timeout=3600)
    return scheduler
