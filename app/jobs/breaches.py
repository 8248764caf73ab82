"""Old dotted path of app.compliance.breaches.jobs: jobs queued under app.jobs.breaches.* before the feature packages
still resolve. Remove after one release."""

from app.compliance.breaches.jobs import remind_dpo_of_breaches  # noqa: F401
