"""Jobs queued under the dotted paths they had before the feature packages still run (one
release): each old path resolves, as RQ resolves it, to the moved function."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.utils import import_attribute

from app.core.extensions import db
from app.core.jobs import enqueue_now
from app.models import LoginToken, TokenPurpose, utcnow

OLD_PATHS = {
    "app.jobs.breaches.remind_dpo_of_breaches": "app.compliance.breaches.jobs.remind_dpo_of_breaches",
    "app.jobs.exports.build_export": "app.dataprotection.exports.jobs.build_export",
    "app.jobs.privacy.remind_office_of_due_requests": "app.dataprotection.requests.jobs.remind_office_of_due_requests",
    "app.jobs.retention.nightly": "app.dataprotection.retention.jobs.nightly",
    "app.jobs.retention.run_one": "app.dataprotection.retention.jobs.run_one",
    "app.jobs.invitations.progress_key": "app.families.jobs.progress_key",
    "app.jobs.invitations.progress": "app.families.jobs.progress",
    "app.jobs.invitations.start": "app.families.jobs.start",
    "app.jobs.invitations.invite_everyone": "app.families.jobs.invite_everyone",
    "app.jobs.topics.publish_due_topics": "app.learning.jobs.publish_due_topics",
    "app.jobs.topics.announce_topic": "app.learning.jobs.announce_topic",
    "app.jobs.topics.send_due_reminders": "app.learning.jobs.send_due_reminders",
    "app.jobs.topics.remind_topic": "app.learning.jobs.remind_topic",
    "app.jobs.topics.topic_schedule": "app.learning.jobs.topic_schedule",
    "app.jobs.notifications.send_deliveries": "app.messaging.jobs.send_deliveries",
    "app.jobs.notifications.sweep_deliveries": "app.messaging.jobs.sweep_deliveries",
    "app.jobs.notifications.week_key": "app.messaging.jobs.week_key",
    "app.jobs.notifications.send_weekly_digests": "app.messaging.jobs.send_weekly_digests",
}


@pytest.mark.parametrize("old,new", sorted(OLD_PATHS.items()))
def test_an_old_job_path_is_the_moved_job(old, new):
    assert old != new
    assert import_attribute(old) is import_attribute(new)


def test_a_job_queued_under_its_old_path_runs(ctx, run_jobs):
    db.session.add(
        LoginToken(
            purpose=TokenPurpose.SIGNIN_LINK, token_hash="old", expires_at=utcnow() - timedelta(minutes=5)
        )
    )
    db.session.commit()
    enqueue_now("app.jobs.retention.run_one", "purge_sign_in_tokens", retry=None)
    assert run_jobs() == 0
    db.session.expire_all()
    assert db.session.scalars(sa.select(LoginToken.token_hash)).all() == []
