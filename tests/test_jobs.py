"""Jobs plumbing: enqueue only after commit, run in a real RQ worker with their own context."""
import sqlalchemy as sa

from app.extensions import db
from app.jobs import enqueue_after_commit, get_queue
from app.jobs.retention import run_one
from app.models import LoginToken, TokenPurpose, utcnow
from datetime import timedelta


def _token(minutes):
    db.session.add(LoginToken(purpose=TokenPurpose.SIGNIN_LINK, token_hash=f"h{minutes}",
                              expires_at=utcnow() + timedelta(minutes=minutes)))


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
    from app.jobs import enqueue_now
    enqueue_now("app.jobs.retention.no_such_job", retry=None)
    assert run_jobs() == 1
