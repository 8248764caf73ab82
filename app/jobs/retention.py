"""Old dotted path of app.dataprotection.retention.jobs: jobs queued under app.jobs.retention.* before the feature packages
still resolve. Remove after one release."""

from app.dataprotection.retention.jobs import nightly, run_one  # noqa: F401
