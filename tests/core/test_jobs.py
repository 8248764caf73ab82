"""Jobs plumbing: enqueue only after commit, run in a real RQ worker with their own context."""

from datetime import timedelta

import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import enqueue_after_commit, get_queue
from app.dataprotection.retention.jobs import run_one
from app.models import LoginToken, TokenPurpose, utcnow


def _token(minutes):
    db.session.add(
        LoginToken(
            purpose=TokenPurpose.SIGNIN_LINK,
            token_hash=f"h{minutes}",
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )


def test_job_is_enqueued_only_when_the_transaction_commits(ctx, run_jobs):
    _token(-5)
    enqueue_after_commit(run_one, "purge_sign_in_tokens")
    db.session.rollback()
    assert get_queue().count == 0
    _token(-5)
    _token(10)
    enqueue_after_commit(run_one, "purge_sign_in_tokens")
    assert get_queue().count == 0  # not before the commit
    db.session.commit()
    assert get_queue().count == 1
    assert run_jobs() == 0
    left = db.session.scalars(sa.select(LoginToken.token_hash)).all()
    assert left == ["h10"]


def test_a_failing_job_reaches_the_failed_registry(ctx, run_jobs):
    from app.core.jobs import enqueue_now

    enqueue_now("app.dataprotection.retention.jobs.no_such_job", retry=None)
    assert run_jobs() == 1


def test_a_rehearsal_as_of_a_later_day_never_makes_the_sweep_announce_a_topic_again(app, ctx, run_jobs):
    """A rehearsal (`retention run --as-of` a later day) purges this week's delivery records;
    the recovery sweep must not take that for a lost announcement and tell the families again."""
    from app.core.redis_conn import get_redis
    from app.jobs.recovery import LOST_AFTER, requeue_lost_jobs
    from app.learning import topics
    from app.learning.jobs import announce_topic
    from app.models import OutboxMessage, WeeklyTopic
    from tests import factories as f
    from tests import teaching as t

    org = f.school()
    cls = f.school_class(org)
    families = [f.parent() for _ in range(2)]
    for carer in families:
        f.pupil(cls, carer)
    topic = t.topic(org, [cls], [t.activity(org)], week=t.next_monday(0))
    assert topics.publish_now(topic, topic.version)
    assert run_jobs() == 0

    def topic_emails() -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.subject.startswith("This week's activities"))
        )

    assert topic_emails() == len(families)
    assert db.session.get(WeeklyTopic, topic.id).announced_at is not None
    rehearsal = app.test_cli_runner().invoke(
        args=["retention", "run", "--yes", "--as-of", str(utcnow().date() + timedelta(days=120))]
    )
    assert rehearsal.exit_code == 0, rehearsal.output
    assert topic_emails() == 0  # the rehearsal purged this week's deliveries and outbox too
    get_redis(app).flushdb()  # RQ has forgotten the finished announcement job by now
    later = (utcnow() + LOST_AFTER + timedelta(minutes=1)).isoformat()
    assert requeue_lost_jobs(later) == {"topics": [], "exports": []}
    assert announce_topic(topic.id) == 0  # announced once, even when asked again
    assert run_jobs() == 0
    assert topic_emails() == 0
