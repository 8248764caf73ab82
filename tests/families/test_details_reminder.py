"""P10: once a year every family is asked to check the details the school holds for them."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.dataprotection.retention.account_rules import months_before
from app.models import NotificationDelivery, OutboxMessage, Role, User, UserStatus, utcnow
from tests import factories as f


def a_year_after(day: date) -> date:
    return months_before(datetime.combine(day, time()), -12).date()


@pytest.fixture()
def nightly(monkeypatch):
    """Run retention as the nightly job would on a given day; collect every reminder it queues
    (delivery records are purged after 90 days, so they are gathered after each run)."""
    clock = {"now": utcnow()}
    monkeypatch.setattr("app.messaging.policy.now", lambda: clock["now"])
    asked: dict[int, tuple[int, date, str]] = {}

    def run(day: date) -> list[int]:
        """The people asked by this run."""
        clock["now"] = datetime.combine(day, time(2, 30), tzinfo=UTC)
        retention.run_all(day)
        new = []
        for id_, user_id, key in db.session.execute(
            sa.select(
                NotificationDelivery.id, NotificationDelivery.user_id, NotificationDelivery.event_key
            ).where(NotificationDelivery.template == "check_details")
        ):
            if id_ not in asked:
                asked[id_] = (user_id, day, key)
                new.append(user_id)
        return new

    run.asked = asked
    return run


def still_using(day: date, *users) -> None:
    """These parents used Hometime the day before ``day`` (no closure notice gets in the way)."""
    seen = datetime.combine(day - timedelta(days=1), time(18), tzinfo=UTC)
    db.session.execute(sa.update(User).where(User.id.in_([u.id for u in users])).values(last_active_at=seen))
    db.session.commit()


@pytest.mark.promise("P02")
@pytest.mark.promise("P10")
def test_a_family_is_asked_once_a_year_and_checking_starts_the_year_again(client, nightly, run_jobs):
    org = f.school()
    cls = f.school_class(org)
    today = utcnow().date()
    joined = months_before(utcnow(), 13)
    forgetful = f.parent(created_at=joined, last_active_at=utcnow())
    checked_on = today - timedelta(days=60)
    checked = f.parent(
        created_at=joined,
        last_active_at=utcnow(),
        details_checked_at=datetime.combine(checked_on, time(9), tzinfo=UTC),
    )
    closed = f.parent(created_at=joined, status=UserStatus.DEACTIVATED, deactivated_at=utcnow())
    f.pupil(cls, forgetful, checked, closed)
    f.staff(org, Role.TEACHER, created_at=joined)

    assert nightly(today) == [forgetful.id]
    assert nightly(today) == []  # the nightly job run twice: still one message
    assert nightly(today + timedelta(days=1)) == []

    assert run_jobs() == 0
    (message,) = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.to == forgetful.email
    assert message.subject == "Please check the details your school holds for you"
    assert "/family/settings#details" in message.text
    # the school supplied this family: it is asked on the school's behalf (P02)
    assert message.headers["from"].startswith(f"{org.name} via Hometime")
    assert f"on behalf of {org.name}" in message.text

    # The parent follows the link and saves their details unchanged: that is a check.
    f.login(client, forgetful)
    r = client.post("/family/settings/details", data={"name": forgetful.name, "email": forgetful.email})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, forgetful.id).details_checked_at.date() == today

    # The parent who had checked 60 days before is asked a year after their check.
    due = a_year_after(checked_on)
    still_using(due, forgetful, checked)
    assert nightly(due - timedelta(days=1)) == []
    assert nightly(due) == [checked.id]
    # And the one who checked today, a year after today; not a day sooner.
    next_year = a_year_after(today)
    still_using(next_year, forgetful, checked)
    assert nightly(next_year - timedelta(days=1)) == []
    assert nightly(next_year) == [forgetful.id]
    keys = [key for user, _, key in nightly.asked.values() if user == forgetful.id]
    assert len(set(keys)) == 2, "one event a year"


@pytest.mark.promise("P10")
def test_a_family_that_does_not_answer_is_asked_again_a_year_later_not_sooner(ctx, nightly):
    parent = f.parent(created_at=months_before(utcnow(), 12))
    today = utcnow().date()
    next_year = a_year_after(today)
    for day in (today, today + timedelta(days=100), next_year - timedelta(days=1), next_year):
        still_using(day, parent)
        nightly(day)
    assert sorted(on for _, on, _ in nightly.asked.values()) == [today, next_year]


def test_the_preview_names_who_would_be_asked(ctx):
    parent = f.parent(created_at=months_before(utcnow(), 12) - timedelta(days=1))
    rows = {r["rule"]: r for r in retention.preview(utcnow().date())}
    assert rows["details_reminder"]["ids"] == [parent.id]
    assert rows["details_reminder"]["promise"] == "P10"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationDelivery)) == 0


def test_a_parent_about_to_be_closed_gets_the_closure_notice_not_this(ctx, nightly):
    year_ago = months_before(utcnow(), 12)
    parent = f.parent(created_at=year_ago - timedelta(days=40), last_active_at=year_ago + timedelta(days=10))
    assert nightly(utcnow().date()) == []
    templates = db.session.scalars(
        sa.select(NotificationDelivery.template).where(NotificationDelivery.user_id == parent.id)
    ).all()
    assert templates == ["closure_notice"]
