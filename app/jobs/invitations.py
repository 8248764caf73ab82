"""Old dotted path of app.families.jobs: jobs queued under app.jobs.invitations.* before the feature packages
still resolve. Remove after one release."""

from app.families.jobs import progress_key, progress, start, invite_everyone  # noqa: F401
