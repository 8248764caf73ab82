"""Retention rules keep every promise on time: nothing kept too long, nothing deleted early."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core import storage
from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.models import (
    Activity,
    ActivityKind,
    ActivityLog,
    Contribution,
    ContributionKind,
    Engagement,
    Guardianship,
    NotificationDelivery,
    Pupil,
    RemovedBy,
    RetentionRun,
    Role,
    TopicActivity,
    User,
    UserStatus,
    WeeklyTopic,
)
from tests import factories as f
from tests.services import recorded_deletions

DAY0 = date(2026, 1, 5)


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


@pytest.fixture()
def clock(monkeypatch):
    """Move the notification clock with the simulated day."""
    state = {"now": at(DAY0)}
    monkeypatch.setattr("app.messaging.policy.now", lambda: state["now"])
    return state


def _photo(pupil, parent):
    act = Activity(
        organisation_id=pupil.organisation_id,
        kind=ActivityKind.HANDS_ON,
        title="t",
        subject="s",
        year_groups="1",
    )
    topic = WeeklyTopic(organisation_id=pupil.organisation_id, week_start=DAY0, title="w")
    db.session.add_all([act, topic])
    db.session.flush()
    item = TopicActivity(topic_id=topic.id, activity_id=act.id)
    db.session.add(item)
    db.session.flush()
    eng = Engagement(pupil_id=pupil.id, topic_activity_id=item.id, rating=5, done_by_id=parent.id)
    db.session.add(eng)
    db.session.flush()
    key = storage.put(b"jpeg bytes", prefix="photo")
    db.session.add(
        Contribution(engagement_id=eng.id, author_id=parent.id, photo_key=key, kind=ContributionKind.PHOTO)
    )
    db.session.commit()
    return key


def _exists(model, id_):
    return db.session.get(model, id_) is not None


@pytest.mark.promise("P17")
def test_a_closed_account_is_deleted_90_days_later_and_the_childs_data_stays(ctx, clock):
    org = f.school()
    cls = f.school_class(org)
    p = f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0))
    child = f.pupil(cls, p)
    key = _photo(child, p)
    parent_id, child_id = p.id, child.id
    retention.run_all(DAY0 + timedelta(days=89))
    assert _exists(User, parent_id)
    retention.run_all(DAY0 + timedelta(days=90))
    db.session.expire_all()
    assert not _exists(User, parent_id)
    assert _exists(Pupil, child_id) and storage.exists(key)
    photo = db.session.scalar(sa.select(Contribution))
    assert photo.author_id is None  # kept for the school, without the parent


@pytest.mark.promise("P15")
def test_the_activity_log_is_purged_after_the_schools_period(ctx):
    org = f.school(activity_log_days=30)
    db.session.add_all(
        [
            ActivityLog(event="signin", organisation_id=org.id, at=at(DAY0)),
            ActivityLog(event="signin", organisation_id=None, at=at(DAY0)),
        ]
    )
    db.session.commit()
    retention.run_all(DAY0 + timedelta(days=29))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityLog)) == 2
    retention.run_all(DAY0 + timedelta(days=31))
    left = db.session.scalars(sa.select(ActivityLog.organisation_id)).all()
    assert left == [None]  # the platform's rows follow ACTIVITY_LOG_DAYS (365)


@pytest.mark.promise("P20")
def test_a_child_removed_by_the_school_and_every_parent_goes_within_90_days(ctx, clock):
    org = f.school()
    cls = f.school_class(org)
    mum, dad = f.parent(), f.parent()
    child = f.pupil(cls, mum, dad)
    key = _photo(child, mum)
    child_id = child.id
    staff = f.staff(org, Role.OFFICE)
    child.removed_at, child.removed_by_id = at(DAY0), staff.id
    db.session.commit()
    retention.run_all(DAY0 + timedelta(days=120))
    assert _exists(Pupil, child.id), "parents still linked: the child stays for them (P18)"
    for parent, day in ((mum, 10), (dad, 40)):
        link = db.session.scalar(sa.select(Guardianship).where(Guardianship.parent_id == parent.id))
        link.removed_at, link.removed_by = at(DAY0 + timedelta(days=day)), RemovedBy.PARENT
    db.session.commit()
    retention.run_all(DAY0 + timedelta(days=129))
    assert _exists(Pupil, child_id), "the last parent left on day 40: 90 days run to day 130"
    retention.run_all(DAY0 + timedelta(days=130))
    db.session.expire_all()
    assert not _exists(Pupil, child_id) and not storage.exists(key)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Engagement)) == 0
    ((reason, school_id, confirmed),) = recorded_deletions([key]).values()
    assert (reason, confirmed) == ("retention", True) and school_id is not None


@pytest.mark.promise("P19")
def test_inactive_accounts_get_one_notice_30_days_before_closure(ctx, clock):
    org = f.school()
    cls = f.school_class(org)
    sleepy = f.parent(last_active_at=at(DAY0))
    busy = f.parent(last_active_at=at(DAY0))
    f.pupil(cls, sleepy, busy)
    notice_day = date(2026, 12, 6)  # 5 Jan 2027 (12 months) minus 30 days
    for day in (notice_day - timedelta(days=1), notice_day, notice_day + timedelta(days=1)):
        clock["now"] = at(day)
        busy.last_active_at = at(day - timedelta(days=200)) if day < notice_day else busy.last_active_at
        db.session.commit()
        retention.run_all(day)
    notices = db.session.scalars(
        sa.select(NotificationDelivery.user_id).where(NotificationDelivery.template == "closure_notice")
    ).all()
    assert notices == [sleepy.id]
    retention.run_all(date(2027, 1, 4))
    assert db.session.get(User, sleepy.id).status is UserStatus.ACTIVE
    retention.run_all(date(2027, 1, 5))
    db.session.expire_all()
    assert db.session.get(User, sleepy.id).status is UserStatus.DEACTIVATED


@pytest.mark.promise("P17")
@pytest.mark.promise("P19")
def test_an_account_closed_for_inactivity_is_told_and_then_gets_nothing_more(ctx, clock, run_jobs):
    from app.messaging.notify import notify
    from app.models import OutboxMessage

    org = f.school()
    sleepy = f.parent(last_active_at=at(DAY0))
    f.pupil(f.school_class(org), sleepy)

    sent: dict[int, tuple[str, str]] = {}  # gathered after each night: the outbox is purged too

    def night(day: date) -> list[str]:
        clock["now"] = at(day)
        retention.run_all(day)
        assert run_jobs() == 0
        new = [
            (id_, subject, text)
            for id_, subject, text in db.session.execute(
                sa.select(OutboxMessage.id, OutboxMessage.subject, OutboxMessage.text)
                .where(OutboxMessage.to == sleepy.email)
                .order_by(OutboxMessage.id)
            )
            if id_ not in sent
        ]
        sent.update({id_: (subject, text) for id_, subject, text in new})
        return [subject for _, subject, _ in new]

    assert night(date(2026, 12, 6)) == ["Your Hometime account will close on Tuesday, 5 January 2027"]
    assert night(date(2027, 1, 4)) == []
    # Told first, while the account is still open; then closed.
    assert night(date(2027, 1, 5)) == ["Your Hometime account is closed"]
    db.session.expire_all()
    assert db.session.get(User, sleepy.id).status is UserStatus.DEACTIVATED
    assert "hasn't been used for a year" in sent[max(sent)][1]
    assert night(date(2027, 1, 6)) == []  # a rerun tells nobody twice
    # ... and nothing else reaches the closed account afterwards (P17)
    notify("topic_published", event_key="topic:after", user_ids=[sleepy.id], organisation_id=org.id)
    db.session.commit()
    assert night(date(2027, 1, 7)) == []


@pytest.mark.promise("P21")
def test_preview_says_what_would_happen_and_changes_nothing(ctx):
    p = f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0))
    rows = {r["rule"]: r for r in retention.preview(DAY0 + timedelta(days=90))}
    assert rows["delete_closed_accounts"]["count"] == 1
    assert rows["delete_closed_accounts"]["ids"] == [p.id]
    assert "90 days" in rows["delete_closed_accounts"]["what"]
    assert _exists(User, p.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RetentionRun)) == 0


@pytest.mark.promise("P21")
def test_each_run_records_a_summary_without_personal_data(ctx):
    f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0))
    retention.run_all(DAY0 + timedelta(days=95))
    run = db.session.scalar(sa.select(RetentionRun).where(RetentionRun.rule == "delete_closed_accounts"))
    assert run.affected == 1 and run.finished_at is not None
    assert {c.name for c in RetentionRun.__table__.columns} == {
        "id",
        "rule",
        "as_of",
        "started_at",
        "finished_at",
        "affected",
    }


def test_a_run_killed_half_way_finishes_on_the_next_run(ctx, monkeypatch):
    for _ in range(5):
        f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0))
    monkeypatch.setattr(retention, "CHUNK", 2)
    rule = next(r for r in retention.RULES if r.name == "delete_closed_accounts")
    calls = {"n": 0}
    real = rule.apply

    def dying(ids, as_of):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("worker killed")
        real(ids, as_of)

    patched = retention.Rule(rule.name, rule.promise, rule.what, rule.select, dying)
    with pytest.raises(KeyboardInterrupt):
        retention.run_rule(patched, retention.as_of_datetime(DAY0 + timedelta(days=100)))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
    retention.run_rule(rule, retention.as_of_datetime(DAY0 + timedelta(days=100)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    retention.run_rule(rule, retention.as_of_datetime(DAY0 + timedelta(days=100)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_cli_preview_and_run_and_as_of_refused_in_production(app, ctx):
    f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["retention", "preview", "--as-of", "2026-04-06"])
    assert out.exit_code == 0 and "delete_closed_accounts" in out.output
    assert "      1  delete_closed_accounts" in out.output
    out = runner.invoke(args=["retention", "run", "--as-of", "2026-04-06", "--yes"])
    assert out.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    app.config["ENV_NAME"] = "production"
    try:
        out = runner.invoke(args=["retention", "run", "--as-of", "2026-04-06", "--yes"])
    finally:
        app.config["ENV_NAME"] = "test"
    assert out.exit_code != 0 and "refused in production" in out.output


@pytest.mark.promise("P21")
def test_the_cli_run_says_it_really_deletes_and_needs_yes_and_a_dry_run_lists_the_records(app, ctx):
    closed = [f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0)) for _ in range(3)]
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["retention", "run", "--as-of", "2026-04-06"])
    assert refused.exit_code != 0
    assert "This really runs the retention rules as if it were 6 April 2026" in refused.output
    assert "deleted for good" in refused.output and "Add --yes to go ahead" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3

    ids = sorted(p.id for p in closed)
    dry = runner.invoke(args=["retention", "run", "--as-of", "2026-04-06", "--dry-run", "--limit", "2"])
    assert dry.exit_code == 0, dry.output
    assert "      3  delete_closed_accounts" in dry.output
    assert f"users ids: {ids[0]}, {ids[1]} (and 1 more)" in dry.output
    assert "Dry run: nothing was changed." in dry.output
    preview = runner.invoke(args=["retention", "preview", "--as-of", "2026-04-06"])
    assert f"users ids: {ids[0]}, {ids[1]}, {ids[2]}" in preview.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RetentionRun)) == 0

    done = runner.invoke(args=["retention", "run", "--as-of", "2026-04-06"], input="y\n")
    assert done.exit_code != 0, "no terminal: a typed answer is not enough, --yes is"
    done = runner.invoke(args=["retention", "run", "--as-of", "2026-04-06", "--yes"])
    assert done.exit_code == 0 and "      3  delete_closed_accounts" in done.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.promise("P21")
def test_the_office_sees_the_schedule_and_a_preview(client):
    org, other = f.school(), f.school()
    office = f.staff(org, Role.OFFICE)
    closed = at(date.today() - timedelta(days=100))
    f.pupil(f.school_class(org), f.parent(status=UserStatus.DEACTIVATED, deactivated_at=closed))
    for _ in range(2):  # another school's families are not counted on this school's page
        f.pupil(f.school_class(other), f.parent(status=UserStatus.DEACTIVATED, deactivated_at=closed))
    f.login(client, office)
    page = client.get("/office/retention").get_data(as_text=True)
    assert "Closed account deleted 90 days after closure" in page
    assert "Kept for the school&#39;s configured period" in page
    assert "<td>P17</td><td>1</td>" in page
    everywhere = {r["rule"]: r["count"] for r in retention.counts(date.today())}
    assert everywhere["delete_closed_accounts"] == 3
    assert everywhere == {r["rule"]: r["count"] for r in retention.preview(date.today())}
    teacher = f.staff(org, Role.TEACHER)
    f.login(client, teacher)
    assert client.get("/office/retention").status_code == 403


@pytest.mark.promise("P21")
def test_the_office_sees_its_schools_file_deletions_and_those_waiting_for_the_store(client):
    from app.models import FileDeletion

    org, other = f.school(), f.school()
    office = f.staff(org, Role.OFFICE)
    now = at(date.today() - timedelta(days=1))
    db.session.add_all(
        [
            FileDeletion(key="photo/a", reason="erasure", organisation_id=org.id, deleted_at=now),
            FileDeletion(key="thumb/a", reason="erasure", organisation_id=org.id),  # store was down
            FileDeletion(key="export/b", reason="export expired", organisation_id=org.id, deleted_at=now),
            *(FileDeletion(key=f"photo/o{i}", reason="erasure", organisation_id=other.id) for i in range(5)),
        ]
    )
    db.session.commit()
    f.login(client, office)
    page = client.get("/office/retention").get_data(as_text=True)
    assert "<td>Erasure</td><td>1</td><td><strong>1</strong></td>" in page  # not the other school's 5
    assert "<td>Export expired</td><td>1</td><td>0</td>" in page
    assert now.strftime("%-d %b %Y") in page


@pytest.mark.promise("P21")
def test_the_preview_follows_a_period_changed_since_the_last_page(client):
    """The preview's statement is kept between pages (it is costly to build); a school that
    changes its period gets a preview built for the new period on the very next page."""
    from tests.queries import statements

    org = f.school()
    office = f.staff(org, Role.OFFICE)
    closed = at(date.today() - timedelta(days=100))
    f.pupil(f.school_class(org), f.parent(status=UserStatus.DEACTIVATED, deactivated_at=closed))
    f.login(client, office)
    assert "<td>P17</td><td>1</td>" in client.get("/office/retention").get_data(as_text=True)
    with statements() as seen:
        client.get("/office/retention")
    assert len(seen) <= 6, "\n\n".join(seen)

    org.closed_account_days = 120  # the school now keeps closed accounts longer
    db.session.commit()
    assert "<td>P17</td><td>0</td>" in client.get("/office/retention").get_data(as_text=True)
    org.closed_account_days = 90
    db.session.commit()
    assert "<td>P17</td><td>1</td>" in client.get("/office/retention").get_data(as_text=True)


@pytest.mark.promise("P21")
def test_the_office_sees_the_runs_that_changed_something_newest_first(client):
    org = f.school()
    office = f.staff(org, Role.OFFICE)
    older, newer = at(date.today() - timedelta(days=2)), at(date.today() - timedelta(days=1))
    db.session.add_all(
        [
            RetentionRun(rule="delete_closed_accounts", as_of=older, started_at=older, affected=3),
            RetentionRun(rule="purge_activity_log", as_of=newer, started_at=newer, affected=12),
            RetentionRun(rule="delete_old_invitations", as_of=newer, started_at=newer, affected=0),
        ]
    )
    db.session.commit()
    f.login(client, office)
    page = client.get("/office/retention").get_data(as_text=True)
    runs = page[page.index("Runs that changed something") : page.index('id="deleted-files"')]
    first = f"<td>{newer.strftime('%-d %b %Y %H:%M')}</td><td>purge activity log</td><td>12</td>"
    second = f"<td>{older.strftime('%-d %b %Y %H:%M')}</td><td>delete closed accounts</td><td>3</td>"
    assert first in runs and second in runs and runs.index(first) < runs.index(second)
    assert "invitations" not in runs  # a run that changed nothing is not listed
    assert "Nothing has needed deleting yet." not in runs
