"""Old dotted path of app.dataprotection.breaches.jobs: jobs queued under app.jobs.breaches.* before the feature packages
still resolve. Remove after one release."""

from app.dataprotection.breaches.jobs import remind_dpo_of_breaches  # noqa: F401
