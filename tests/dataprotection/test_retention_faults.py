"""Retention under faults: a real database error in the middle of a chunk rolls that chunk back
whole, the chunks before it stay done, and the next run finishes the job (issue 6)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.models import ActivityLog, RetentionRun, User, UserStatus
from tests import factories as f

CLOSED_ON = datetime(2026, 1, 5, 12, tzinfo=UTC)
RUN_ON = date(2026, 4, 20)  # more than 90 days after the closure


def _refuse_deleting(user_id: int) -> None:
    """Make PostgreSQL itself fail when the row is deleted (as a full disk or a lock timeout
    would): a trigger raising an error."""
    db.session.execute(
        sa.text(f"""
        CREATE FUNCTION hometime_test_refuse() RETURNS trigger AS $$
        BEGIN
          IF OLD.id = {int(user_id)} THEN RAISE EXCEPTION 'simulated failure'; END IF;
          RETURN OLD;
        END $$ LANGUAGE plpgsql""")
    )
    db.session.execute(
        sa.text(
            "CREATE TRIGGER hometime_test_refuse BEFORE DELETE ON users "
            "FOR EACH ROW EXECUTE FUNCTION hometime_test_refuse()"
        )
    )
    db.session.commit()


def _allow_deleting() -> None:
    db.session.rollback()
    db.session.execute(sa.text("DROP TRIGGER IF EXISTS hometime_test_refuse ON users"))
    db.session.execute(sa.text("DROP FUNCTION IF EXISTS hometime_test_refuse()"))
    db.session.commit()


def _left() -> set[int]:
    return set(db.session.scalars(sa.select(User.id)))


def test_a_database_error_half_way_rolls_back_that_chunk_and_the_rerun_finishes(ctx, monkeypatch):
    ids = [f.parent(status=UserStatus.DEACTIVATED, deactivated_at=CLOSED_ON).id for _ in range(5)]
    monkeypatch.setattr(retention, "CHUNK", 2)
    rule = next(r for r in retention.RULES if r.name == "delete_closed_accounts")
    as_of = retention.as_of_datetime(RUN_ON)
    victim = ids[2]
    _refuse_deleting(victim)
    try:
        with pytest.raises(DBAPIError, match="simulated failure"):
            retention.run_rule(rule, as_of)
        db.session.rollback()
        left = _left()
        assert victim in left
        # whole chunks only: the victim's chunk is all still there, earlier chunks are gone
        assert len(left) in (1, 3, 5) and len(ids) - len(left) in (0, 2, 4)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RetentionRun)) == 0
    finally:
        _allow_deleting()
    retention.run_rule(rule, as_of)
    assert _left() == set()
    run = db.session.scalar(sa.select(RetentionRun))
    assert run.rule == "delete_closed_accounts" and run.affected == len(left)


def test_one_failing_rule_does_not_stop_the_others_and_the_next_night_finishes(ctx):
    """A rule that fails does not keep the other promises waiting: the rest of the run goes on,
    the run ends in an error naming the rule (so the job is in the failed registry the office
    counts), and the next night's run does what was left, once."""
    closed = f.parent(status=UserStatus.DEACTIVATED, deactivated_at=CLOSED_ON)
    old_log = ActivityLog(event="signin", at=CLOSED_ON - timedelta(days=800))
    db.session.add(old_log)
    db.session.commit()
    log_id = old_log.id
    _refuse_deleting(closed.id)
    try:
        with pytest.raises(retention.RetentionFailed, match="delete_closed_accounts") as failed:
            retention.run_all(RUN_ON)
    finally:
        _allow_deleting()
    assert list(failed.value.failed) == ["delete_closed_accounts"]
    assert failed.value.done["purge_activity_log"] == 1, "the rules after it still ran"
    assert closed.id in _left()
    assert db.session.get(ActivityLog, log_id) is None
    done = retention.run_all(RUN_ON + timedelta(days=1))
    assert done["delete_closed_accounts"] == 1 and _left() == set()


def test_the_cli_says_which_rule_failed_and_exits_with_an_error(app, ctx):
    closed = f.parent(status=UserStatus.DEACTIVATED, deactivated_at=CLOSED_ON)
    _refuse_deleting(closed.id)
    try:
        out = app.test_cli_runner().invoke(args=["retention", "run", "--as-of", str(RUN_ON), "--yes"])
    finally:
        _allow_deleting()
    assert out.exit_code == 1
    assert "purge_activity_log" in out.output  # what did run is listed
    assert "these rules failed" in out.output and "delete_closed_accounts (" in out.output
