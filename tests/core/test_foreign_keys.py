"""Foreign keys and their ON DELETE rules hold in the database that migrations build: the one
`make run` uses (an embedded PostgreSQL) and the suite's. When retention deletes a parent or a
child, the rows pointing at them are deleted or cleared as the rules say, nothing is left pointing
at a missing row, and a deleted row's id is never given to a new one."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.models import (
    Award,
    AwardKind,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Guardianship,
    PrivacyRequest,
    RemovedBy,
    RequestChannel,
    RequestKind,
    Role,
    UsageEvent,
    UsageKind,
    UserStatus,
)
from tests import factories as f
from tests import teaching as t

DAY0 = date(2026, 1, 5)


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def _count(table: str, where: str, **params) -> int:
    return db.session.scalar(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params)


def _references_to(table: str, row_id: int) -> dict[str, int]:
    """Every column whose foreign key points at ``table``, with how many rows hold ``row_id``."""
    found = {}
    for child in db.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table.name == table:
                n = _count(child.name, f"{fk.parent.name} = :id", id=row_id)
                found[f"{child.name}.{fk.parent.name}"] = n
    return found


def _dangling() -> list[str]:
    """Rows anywhere whose foreign key names a row that does not exist."""
    bad = []
    for child in db.metadata.sorted_tables:
        for fk in child.foreign_keys:
            parent, col = fk.column.table.name, fk.parent.name
            n = db.session.scalar(
                sa.text(
                    f"SELECT count(*) FROM {child.name} c WHERE c.{col} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent} p WHERE p.{fk.column.name} = c.{col})"
                )
            )
            if n:
                bad.append(f"{child.name}.{col} -> {parent}: {n}")
    return bad


def _family_with_everything(org, cls, mum, child):
    """What a family leaves in the database: an engagement with a comment and an award, consent
    records, usage, a privacy request about the child."""
    act = t.activity(org, subject="Maths", year_groups="1")
    topic = t.topic(org, [cls], [act], week=DAY0, title="Numbers")
    comment = t.done(child, topic.items[0], rating=5, comment="We counted 14!", by=mum)
    db.session.add_all(
        [
            Award(pupil_id=child.id, kind=AwardKind.STAR_OF_THE_WEEK, note="Counted well"),
            ConsentRecord(
                user_id=mum.id,
                organisation_id=org.id,
                pupil_id=child.id,
                purpose=ConsentPurpose.CONTRIBUTION_PROMO,
                granted=True,
                method=ConsentMethod.WEB_FORM,
            ),
            UsageEvent(user_id=mum.id, pupil_id=child.id, activity_id=act.id, kind=UsageKind.ACTIVITY_DONE),
            PrivacyRequest(
                organisation_id=org.id,
                kind=RequestKind.ACCESS,
                channel=RequestChannel.WEB,
                requester_id=mum.id,
                requester_name=mum.name,
                requester_email=mum.email,
                subject_pupil_id=child.id,
                on_behalf_of="child",
                details="",
                received_on=DAY0,
            ),
        ]
    )
    db.session.commit()
    return comment.engagement_id, comment.id


@pytest.mark.promise("P17")
def test_deleting_a_closed_account_clears_or_deletes_what_points_at_it_and_reuses_no_id(ctx):
    org = f.school()
    cls = f.school_class(org)
    dad = f.parent()
    mum = f.parent(status=UserStatus.DEACTIVATED, deactivated_at=at(DAY0))  # the newest user
    child = f.pupil(cls, mum, dad)
    eng_id, comment_id = _family_with_everything(org, cls, mum, child)
    mum_id = mum.id
    assert _references_to("users", mum_id)["guardianships.parent_id"] == 1

    retention.run_all(DAY0 + timedelta(days=90))  # P17: deleted 90 days after closing
    db.session.expire_all()

    assert _count("users", "id = :id", id=mum_id) == 0
    assert {k: n for k, n in _references_to("users", mum_id).items() if n} == {}
    # CASCADE: her link, consents and usage went with her ...
    assert _count("guardianships", "pupil_id = :id", id=child.id) == 1  # dad's stays
    assert _count("consent_records", "pupil_id = :id", id=child.id) == 0
    assert _count("usage_events", "pupil_id = :id", id=child.id) == 0
    # ... SET NULL: what she sent about her child stays with the school, without her.
    assert _count("engagements", "id = :id AND done_by_id IS NULL", id=eng_id) == 1
    assert (
        _count("contributions", "id = :id AND author_id IS NULL AND body = 'We counted 14!'", id=comment_id)
        == 1
    )
    assert _count("privacy_requests", "requester_id IS NULL AND subject_pupil_id = :id", id=child.id) == 1
    assert _dangling() == []

    newcomer = f.parent()
    assert newcomer.id > mum_id  # a sequence: her id is never given to someone else


@pytest.mark.promise("P20")
def test_deleting_a_gone_child_takes_their_records_and_clears_the_requests_about_them(ctx):
    org = f.school()
    cls = f.school_class(org)
    mum = f.parent()
    child = f.pupil(cls, mum)
    eng_id, comment_id = _family_with_everything(org, cls, mum, child)
    child_id = child.id
    office = f.staff(org, Role.OFFICE)
    child.removed_at, child.removed_by_id = at(DAY0), office.id
    link = db.session.scalar(sa.select(Guardianship).where(Guardianship.pupil_id == child_id))
    link.removed_at, link.removed_by = at(DAY0), RemovedBy.PARENT
    db.session.commit()

    retention.run_all(DAY0 + timedelta(days=90))  # P20: removed by school and parents
    db.session.expire_all()

    assert _count("pupils", "id = :id", id=child_id) == 0
    assert {k: n for k, n in _references_to("pupils", child_id).items() if n} == {}
    for table, row_id in (("engagements", eng_id), ("contributions", comment_id)):
        assert _count(table, "id = :id", id=row_id) == 0, table  # CASCADE
    assert _count("awards", "true") == 0 and _count("guardianships", "true") == 0
    # SET NULL: mum's consent and her request stay hers, no longer naming the child.
    assert _count("consent_records", "user_id = :id AND pupil_id IS NULL", id=mum.id) == 1
    assert _count("privacy_requests", "requester_id = :id AND subject_pupil_id IS NULL", id=mum.id) == 1
    assert _dangling() == []
    assert f.pupil(cls, mum).id > child_id


def test_the_database_refuses_a_row_pointing_at_nothing_and_deleting_a_row_still_in_use(ctx):
    org = f.school()
    cls = f.school_class(org)
    mum = f.parent()
    child = f.pupil(cls, mum)
    missing = mum.id + 1000
    with pytest.raises(IntegrityError, match="fk_guardianships_parent_id_users"):
        db.session.add(Guardianship(parent_id=missing, pupil_id=child.id))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(IntegrityError, match="is still referenced"):
        db.session.execute(sa.text("DELETE FROM organisations WHERE id = :id"), {"id": org.id})
        db.session.commit()
    db.session.rollback()
    assert _count("organisations", "id = :id", id=org.id) == 1
    assert _count("guardianships", "true") == 1 and _count("pupils", "true") == 1
