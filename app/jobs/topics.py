"""Old dotted path of app.learning.jobs: jobs queued under app.jobs.topics.* before the feature packages
still resolve. Remove after one release."""

from app.learning.jobs import (  # noqa: F401
    announce_topic,
    publish_due_topics,
    remind_topic,
    send_due_reminders,
    topic_schedule,
)
