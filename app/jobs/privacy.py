"""Old dotted path of app.dataprotection.requests.jobs: jobs queued under app.jobs.privacy.* before the feature packages
still resolve. Remove after one release."""

from app.dataprotection.requests.jobs import remind_office_of_due_requests  # noqa: F401
