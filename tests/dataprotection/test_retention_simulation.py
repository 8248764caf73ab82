"""400 days of a demo-sized school, every day's retention run in order (issue 6).

Promises P10, P15, P17, P19 and P20.

Each family follows a script: some use Hometime every week, some stop, some close their account,
and some children are removed by the school and then by their parent. After every day's run the
test checks that no record is kept past its deadline, none is deleted early, each closure
notice is sent exactly once, 30 days before the closure, and families who never checked their
details are asked to, once, a year after joining.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.dataprotection.retention.account_rules import months_before
from app.models import (
    ActivityLog,
    Guardianship,
    NotificationDelivery,
    Pupil,
    RemovedBy,
    Role,
    User,
    UserStatus,
)
from tests import factories as f

DAY0 = date(2026, 1, 5)
DAYS = 400
STOP, CLOSE, REMOVE, UNLINK = 20, 50, 100, 150


def noon(day):
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def months_later(day: date, months: int) -> date:
    return months_before(noon(day), -months).date()


@pytest.mark.promise("P10")
@pytest.mark.promise("P15")
@pytest.mark.promise("P17")
@pytest.mark.promise("P19")
@pytest.mark.promise("P20")
def test_four_hundred_days_of_retention(ctx, monkeypatch):
    clock = {"now": noon(DAY0)}
    monkeypatch.setattr("app.messaging.policy.now", lambda: clock["now"])
    org = f.school(activity_log_days=365)
    office = f.staff(org, Role.OFFICE)
    classes = [f.school_class(org, name="Year 1"), f.school_class(org, name="Year 3")]
    groups = {"weekly": [], "stops": [], "closes": [], "removed": []}
    pupils_removed = []
    for i in range(24):
        parent = f.parent(last_active_at=noon(DAY0), created_at=noon(DAY0))
        pupil = f.pupil(classes[i % 2], parent)
        group = list(groups)[i % 4]
        groups[group].append(parent.id)
        if group == "removed":
            pupils_removed.append(pupil.id)
    ids = {g: list(v) for g, v in groups.items()}
    # Families who stop using Hometime: the "stops" group after day 20, and the parents of removed
    # children, who never came back after day 0. Both get a notice, then closure 30 days later.
    last_seen = {
        **{i: DAY0 + timedelta(days=STOP) for i in ids["stops"]},
        **{i: DAY0 for i in ids["removed"]},
    }
    closure_on = {i: months_later(seen, 12) for i, seen in last_seen.items()}
    notice_on = {i: closed - timedelta(days=30) for i, closed in closure_on.items()}
    log_ids_by_day = {}

    for n in range(DAYS):
        day = DAY0 + timedelta(days=n)
        clock["now"] = noon(day)
        # --- what families and the school do today
        if n % 7 == 0:
            db.session.execute(
                sa.update(User).where(User.id.in_(ids["weekly"])).values(last_active_at=noon(day))
            )
        if n <= STOP:
            db.session.execute(
                sa.update(User).where(User.id.in_(ids["stops"])).values(last_active_at=noon(day))
            )
        if n == CLOSE:
            db.session.execute(
                sa.update(User)
                .where(User.id.in_(ids["closes"]))
                .values(status=UserStatus.DEACTIVATED, deactivated_at=noon(day))
            )
        if n == REMOVE:
            db.session.execute(
                sa.update(Pupil)
                .where(Pupil.id.in_(pupils_removed))
                .values(removed_at=noon(day), removed_by_id=office.id)
            )
        if n == UNLINK:
            db.session.execute(
                sa.update(Guardianship)
                .where(Guardianship.pupil_id.in_(pupils_removed))
                .values(removed_at=noon(day), removed_by=RemovedBy.PARENT)
            )
        entry = ActivityLog(event="signin", organisation_id=org.id, at=noon(day))
        db.session.add(entry)
        db.session.commit()
        log_ids_by_day[n] = entry.id

        retention.run_all(day)

        # --- nothing kept past its deadline, nothing deleted early
        users = {u.id: u for u in db.session.scalars(sa.select(User))}
        closed_gone = all(i not in users for i in ids["closes"])
        assert closed_gone == (n >= CLOSE + 90), f"day {n}: closed accounts (P17)"
        removed_left = db.session.scalar(
            sa.select(sa.func.count()).select_from(Pupil).where(Pupil.id.in_(pupils_removed))
        )
        assert (removed_left == 0) == (n >= UNLINK + 90), f"day {n}: removed children (P20)"
        for i in ids["weekly"]:
            assert users[i].status is UserStatus.ACTIVE, f"day {n}: weekly users stay"
        for i, closed in closure_on.items():
            expected = UserStatus.DEACTIVATED if day >= closed else UserStatus.ACTIVE
            assert users[i].status is expected, f"day {n}: user {i} closes on {closed} (P19)"
        notices = dict(
            db.session.execute(
                sa.select(NotificationDelivery.user_id, sa.func.count())
                .where(NotificationDelivery.template == "closure_notice")
                .group_by(NotificationDelivery.user_id)
            ).all()
        )
        due = {i: 1 for i, on in notice_on.items() if day >= on}
        assert notices == due, f"day {n}: exactly one notice, 30 days before closure (P19)"
        asked = dict(
            db.session.execute(
                sa.select(NotificationDelivery.user_id, sa.func.count())
                .where(NotificationDelivery.template == "check_details")
                .group_by(NotificationDelivery.user_id)
            ).all()
        )
        # Weekly families never checked their details: asked once, a year after joining. Those
        # told their account is closing are not asked as well; closed accounts never are.
        due = {i: 1 for i in ids["weekly"]} if day >= months_later(DAY0, 12) else {}
        assert asked == due, f"day {n}: asked to check their details once a year (P10)"
        kept = set(db.session.scalars(sa.select(ActivityLog.id)))
        for m, log_id in log_ids_by_day.items():
            assert (log_id in kept) == (n - m < 365), f"day {n}: log from day {m} (P15)"

    assert all(d < DAY0 + timedelta(days=DAYS) for d in closure_on.values()), "all closures seen"
