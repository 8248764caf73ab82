"""Old dotted path of app.messaging.jobs: jobs queued under app.jobs.notifications.* before the feature packages
still resolve. Remove after one release."""

from app.messaging.jobs import (  # noqa: F401
    send_deliveries,
    send_weekly_digests,
    sweep_deliveries,
    week_key,
)
