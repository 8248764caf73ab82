"""Each family is held to the periods its own schools promised, never to another school's:
a school that deletes closed accounts after 30 days does not shorten another school's 90."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.models import NotificationDelivery, Pupil, User, UserStatus
from tests import factories as f

DAY0 = date(2026, 1, 5)


def noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def left(model, ids) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(model.id).where(model.id.in_(ids))))


@pytest.fixture()
def schools(ctx):
    quick = f.school(name="Quick Primary", closed_account_days=30, inactive_months=6, removed_child_days=30)
    usual = f.school(name="Usual Primary")  # the defaults: 90 days, 12 months, 90 days
    return {"quick": f.school_class(quick), "usual": f.school_class(usual)}


@pytest.mark.promise("P17")
def test_closed_accounts_go_after_their_own_schools_period(schools):
    closed = {"status": UserStatus.DEACTIVATED, "deactivated_at": noon(DAY0)}
    at_quick, at_usual, at_both, at_none = (f.parent(**closed) for _ in range(4))
    f.pupil(schools["quick"], at_quick)
    f.pupil(schools["usual"], at_usual)
    f.pupil(schools["quick"], at_both)
    f.pupil(schools["usual"], at_both)
    ids = [at_quick.id, at_usual.id, at_both.id, at_none.id]
    retention.run_all(DAY0 + timedelta(days=29))
    assert left(User, ids) == set(ids)
    retention.run_all(DAY0 + timedelta(days=30))
    # a family at both schools goes by the shorter promise: never kept past a deadline
    assert left(User, ids) == {at_usual.id, at_none.id}
    retention.run_all(DAY0 + timedelta(days=89))
    assert left(User, ids) == {at_usual.id, at_none.id}, "90 days at the usual school"
    retention.run_all(DAY0 + timedelta(days=90))
    assert left(User, ids) == set()


@pytest.mark.promise("P19")
def test_inactivity_is_counted_by_each_familys_own_school(schools, monkeypatch):
    monkeypatch.setattr("app.messaging.policy.now", lambda: noon(DAY0))
    seen = {
        "last_active_at": noon(DAY0 - timedelta(days=200)),
        "created_at": noon(DAY0 - timedelta(days=400)),
    }
    quiet_quick, quiet_usual = f.parent(**seen), f.parent(**seen)
    f.pupil(schools["quick"], quiet_quick)
    f.pupil(schools["usual"], quiet_usual)
    retention.run_all(DAY0)
    told = set(
        db.session.scalars(
            sa.select(NotificationDelivery.user_id).where(NotificationDelivery.template == "closure_notice")
        )
    )
    assert told == {quiet_quick.id}, "about 6½ months unused: only the 6-month school's family"


@pytest.mark.promise("P20")
def test_a_removed_child_goes_after_their_schools_period(schools):
    gone = {"removed_at": noon(DAY0)}
    quick_child = f.pupil(schools["quick"], **gone)
    usual_child = f.pupil(schools["usual"], **gone)
    ids = [quick_child.id, usual_child.id]
    retention.run_all(DAY0 + timedelta(days=29))
    assert left(Pupil, ids) == set(ids)
    retention.run_all(DAY0 + timedelta(days=30))
    assert left(Pupil, ids) == {usual_child.id}
    retention.run_all(DAY0 + timedelta(days=90))
    assert left(Pupil, ids) == set()
