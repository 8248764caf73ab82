"""Old dotted path of app.dataprotection.exports.jobs: jobs queued under app.jobs.exports.* before the feature packages
still resolve. Remove after one release."""

from app.dataprotection.exports.jobs import build_export  # noqa: F401
