"""Old dotted path of app.families.jobs: jobs queued under app.jobs.invitations.* before the feature packages
still resolve. Remove after one release."""

from app.families.jobs import invite_everyone, progress, progress_key, start  # noqa: F401
