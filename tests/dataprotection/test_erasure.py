"""Erasure and anonymisation (P23), walked against the data inventory: after erase(), every
personal column of the person's rows is gone, removed, a placeholder, or kept without identity."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core import storage
from app.core.extensions import db
from app.dataprotection.common.ownership import t
from app.dataprotection.exports import service as exports
from app.dataprotection.rights import erasure
from app.dataprotection.rights.restriction import promotable_contributions
from app.models import (
    ActivityLog,
    ConsentRecord,
    Contribution,
    DataExport,
    Engagement,
    Guardianship,
    NotificationDelivery,
    OutboxMessage,
    PrivacyRequest,
    Pupil,
    RequestEvent,
    RequestState,
    Role,
    User,
    UserStatus,
    utcnow,
)
from app.models.inventory import INVENTORY, Erasure
from tests import factories as f
from tests.privacy_data import access_request, two_families
from tests.services import recorded_deletions

pytestmark = pytest.mark.promise("P23")


@pytest.fixture()
def s(ctx):
    return two_families()


def _rows(table: str, subject) -> list[dict]:
    cond = erasure._where(table, subject)
    return [dict(r._mapping) for r in db.session.execute(sa.select(t(table)).where(cond))]


def _snapshot() -> dict:
    """Every row of every table, to prove that a second erasure changes nothing."""
    db.session.expire_all()
    return {
        name: sorted(map(repr, db.session.execute(sa.select(table)).all()))
        for name, table in db.metadata.tables.items()
    }


def _assert_erased(subject, before: dict[str, list[dict]]) -> None:
    """Walk the inventory over the rows the person had before erasure."""
    problems = []
    for table, rows in before.items():
        entry, tbl = INVENTORY[table], t(table)
        for row in rows:
            key = tbl.c.id == row["id"] if "id" in tbl.c else sa.and_(*(tbl.c[c] == row[c] for c in row))
            now = db.session.execute(sa.select(tbl).where(key)).first()
            if now is None:
                continue  # gone
            now = dict(now._mapping)
            if table in ("consent_records", "privacy_requests", "request_events") and not any(
                r == now["id"] for r in [x["id"] for x in _rows(table, subject)]
            ):
                continue  # kept as someone else's record, no longer linked to the person
            if entry.erasure is Erasure.DELETE and not now.get("never_use_again"):
                problems.append(f"{table} {row['id']} should be deleted")
            for column, col in entry.personal.items():
                value = now[column]
                if col.erasure is Erasure.KEEP:
                    continue
                if col.erasure is Erasure.PLACEHOLDER:
                    ok = value == erasure.PLACEHOLDERS[(table, column)]
                else:
                    ok = value in (None, False, "", erasure.TOMBSTONE_KEY)
                if not ok:
                    problems.append(f"{table}.{column} of {row['id']} still holds {value!r}")
    assert problems == []


def _before(subject) -> dict[str, list[dict]]:
    return {table: _rows(table, subject) for table in erasure.tables_for(subject)}


def test_the_preview_says_what_goes_what_is_anonymised_and_what_stays(s):
    before = _snapshot()
    lines = {(line.table, line.outcome): line for line in erasure.preview(s.amir)}
    assert lines[("guardianships", "deleted")].count == 1
    assert lines[("contributions", "deleted")].count == 3  # a comment and two photos
    pupil = lines[("pupils", "anonymised")]
    assert "First name: replaced with a placeholder" in pupil.details
    assert "Unique pupil number (UPN): removed" in pupil.details and "Pupil Premium: removed" in pupil.details
    assert "Which activities" not in pupil.why and "Choosing suitable activities." in pupil.why
    assert lines[("engagements", "anonymised")].count == 3
    assert "kept as an anonymous figure" in lines[("engagements", "anonymised")].why
    assert lines[("consent_records", "kept")].why.startswith("Kept as the carer's own record")
    assert _snapshot() == before  # a preview changes nothing


def test_erasing_a_child_leaves_nothing_that_identifies_them(s, run_jobs):
    s.amir_photo.published_at, s.amir_photo.promo_opt_in = utcnow(), True
    db.session.commit()
    assert (
        s.amir_photo.id
        in db.session.scalars(promotable_contributions(s.org.id).with_only_columns(Contribution.id)).all()
    )
    before = _before(s.amir)
    files = [s.amir_photo.photo_key, s.amir_photo.thumb_key, s.group_photo.photo_key]
    erasure.erase(s.amir, s.office)
    db.session.expire_all()
    _assert_erased(s.amir, before)
    pupil = db.session.get(Pupil, s.amir.id)
    assert (pupil.first_name, pupil.last_name, pupil.upn, pupil.pupil_premium) == (
        "Erased",
        "pupil",
        None,
        False,
    )
    assert pupil.erased_at is not None
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Guardianship).where(Guardianship.pupil_id == s.amir.id)
        )
        == 0
    )
    # Counts and ratings stay, without who did them.
    ratings = db.session.execute(
        sa.select(Engagement.rating, Engagement.done_by_id).where(Engagement.pupil_id == s.amir.id)
    ).all()
    assert sorted(ratings) == [(4, None), (4, None), (5, None)]
    # Comments and photos are gone, files too; the published photo is a never-use-again marker.
    left = db.session.scalars(
        sa.select(Contribution).join(Engagement).where(Engagement.pupil_id == s.amir.id)
    ).all()
    assert [(c.id, c.never_use_again, c.author_id, c.thumb_key) for c in left] == [
        (s.amir_photo.id, True, None, None)
    ]
    assert not any(storage.exists(key) for key in files)
    assert (
        promotable_contributions(s.org.id) is not None
        and db.session.scalars(promotable_contributions(s.org.id)).all() == []
    )
    # The parent's consent history stays theirs, without the link to the child.
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(ConsentRecord).where(ConsentRecord.pupil_id == s.amir.id)
        )
        == 0
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(ConsentRecord).where(ConsentRecord.user_id == s.aisha.id)
        )
        == 2
    )
    # The other family is untouched.
    assert db.session.get(Pupil, s.zara.id).first_name == "Zara"
    assert db.session.get(Contribution, s.zara_comment.id).body == "Zara MOORE-SECRET comment"
    assert storage.exists(s.zara_photo.photo_key)
    # Recorded, without the child's name.
    logged = db.session.execute(
        sa.select(ActivityLog.event, ActivityLog.subject, ActivityLog.user_id).where(
            ActivityLog.event == "erased"
        )
    ).all()
    assert logged == [("erased", f"pupil:{s.amir.id}", s.office.id)]
    # The carer is told.
    assert (
        db.session.scalar(
            sa.select(NotificationDelivery.template).where(NotificationDelivery.user_id == s.aisha.id)
        )
        == "erasure_completed"
    )
    assert run_jobs() == 0
    sent = db.session.scalars(
        sa.select(OutboxMessage.text).where(OutboxMessage.to == "aisha@family.example")
    ).all()
    assert any("has erased your child's data" in text for text in sent)


def test_erasing_twice_changes_nothing(s):
    erasure.erase(s.amir, s.office)
    erasure.erase(s.mo, s.office)
    before = _snapshot()
    assert erasure.erase(db.session.get(Pupil, s.amir.id), s.office).startswith("Already")
    assert erasure.erase(db.session.get(User, s.mo.id), s.office).startswith("Already")
    assert _snapshot() == before


def test_erasing_a_parent_follows_the_inventory(s, client):
    s.zara_photo.published_at = utcnow()
    db.session.commit()
    comment_id, photo_id, photo_key = s.zara_comment.id, s.zara_photo.id, s.zara_photo.photo_key
    before = _before(s.mo)
    assert before["consent_records"] and before["guardianships"] and before["contributions"]
    erasure.erase(s.mo, s.office)
    db.session.expire_all()
    _assert_erased(s.mo, before)
    mo = db.session.get(User, s.mo.id)
    assert (mo.name, mo.email, mo.mobile, mo.password_hash, mo.totp_secret, mo.status) == (
        "Erased account",
        None,
        None,
        None,
        None,
        UserStatus.ERASED,
    )
    # Her comment is deleted; her published photo stays only as a never-use-again marker.
    assert db.session.get(Contribution, comment_id) is None
    assert db.session.get(Contribution, photo_id).never_use_again is True
    assert not storage.exists(photo_key)
    assert recorded_deletions([photo_key]) == {photo_key: ("erasure", s.zara.organisation_id, True)}
    # Zara's own school record stays (erasing a parent is not erasing the child).
    assert db.session.get(Pupil, s.zara.id).first_name == "Zara"
    # The erased parent cannot sign in, and is told at the address they had.
    response = client.post("/auth/signin", data={"email": "mo@family.example", "password": f.PASSWORD})
    assert "/family" not in response.headers.get("Location", "")
    told = db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.to == "mo@family.example")
    ).all()
    assert any("erased" in (subject or "") for subject in told)


def test_an_erasure_request_is_completed_and_the_requester_told(s, run_jobs):
    req = access_request(s, pupil=s.amir, kind="erasure")
    export_req = access_request(s, pupil=s.amir)
    export_id = exports.start(export_req.id, s.office).id
    assert run_jobs() == 0
    db.session.expire_all()
    export_keys = exports.stored_keys(db.session.get(DataExport, export_id).file_key)
    erasure.erase(s.amir, s.office, request_id=req.id)
    db.session.expire_all()
    done = db.session.get(PrivacyRequest, req.id)
    assert done.state is RequestState.COMPLETED and "erased" in done.outcome
    assert done.subject_pupil_id is None  # the request no longer points at the record
    notes = db.session.scalars(sa.select(RequestEvent.note).where(RequestEvent.request_id == req.id)).all()
    assert any(n and n.startswith("The child's record was erased") for n in notes)
    assert (
        "request_completed"
        in db.session.scalars(
            sa.select(NotificationDelivery.template).where(NotificationDelivery.user_id == s.aisha.id)
        ).all()
    )
    # A copy of the child's data made earlier is gone too.
    assert db.session.get(DataExport, export_id) is None
    assert not any(storage.exists(k) for k in export_keys)


def test_a_parent_at_two_schools_is_erased_only_by_an_office_that_covers_both(s):
    with pytest.raises(erasure.ErasureError, match="another school"):
        erasure.erase(s.aisha, s.office)
    assert db.session.get(User, s.aisha.id).email == "aisha@family.example"
    with pytest.raises(erasure.ErasureError) as refused:
        erasure.erase(s.amir, s.elm_office)  # not Elm's pupil
    assert refused.value.status == 404
    req = access_request(s, pupil=s.zara, kind="access")
    with pytest.raises(erasure.ErasureError, match="not a request to erase"):
        erasure.erase(s.amir, s.office, request_id=req.id)
    assert db.session.get(Pupil, s.amir.id).erased_at is None


def test_the_office_previews_then_confirms_on_its_pages(s, client):
    f.login(client, s.office)
    page = client.get(f"/office/people/pupils/{s.amir.id}/erase")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Deleted" in text and "Anonymised" in text and "Nothing has changed yet" in text
    unconfirmed = client.post(f"/office/people/pupils/{s.amir.id}/erase", data={})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert db.session.get(Pupil, s.amir.id).erased_at is None
    done = client.post(f"/office/people/pupils/{s.amir.id}/erase", data={"e-confirm": "y"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Pupil, s.amir.id).erased_at is not None
    assert client.get(f"/office/people/pupils/{s.amir.id}").status_code == 404
    f.login(client, s.elm_office)
    assert client.get(f"/office/people/pupils/{s.zara.id}/erase").status_code == 404
    assert client.post(f"/office/people/parents/{s.mo.id}/erase", data={"e-confirm": "y"}).status_code == 404
    assert db.session.get(User, s.mo.id).status is UserStatus.ACTIVE


def test_staff_accounts_are_not_erased_here(s):
    with pytest.raises(erasure.ErasureError):
        erasure.erase(f.staff(s.org, Role.TEACHER), s.office)


# --- erasure as asked: one part of a child's data ----------------------------------------------


def test_erasing_only_the_photos_keeps_the_child_and_everything_else(s, client, run_jobs):
    from app.dataprotection.rights import partial

    req = access_request(s, pupil=s.amir, kind="erasure")
    photo_keys = [s.amir_photo.photo_key, s.group_photo.photo_key]
    photo_ids = [s.amir_photo.id, s.group_photo.id]
    f.login(client, s.office)
    # Opened from the request, the form is already tied to it.
    page = client.get(f"/office/people/pupils/{s.amir.id}/erase?part=photos&request={req.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "2 photos deleted" in text
    assert f'<option selected value="{req.id}"' in text or f'value="{req.id}" selected' in text
    done = client.post(
        f"/office/people/pupils/{s.amir.id}/erase",
        data={"e-part": "photos", "e-request_id": str(req.id), "e-confirm": "y"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    amir = db.session.get(Pupil, s.amir.id)
    assert amir.erased_at is None and amir.first_name == "Amir"  # the child stays
    assert all(db.session.get(Contribution, i) is None for i in photo_ids)
    assert db.session.get(Contribution, s.amir_comment.id).body.startswith("Amir counted")  # comments stay
    assert db.session.scalar(sa.select(Guardianship.id).where(Guardianship.pupil_id == amir.id))
    assert not any(storage.exists(k) for k in photo_keys)
    assert recorded_deletions(photo_keys) == {k: ("erasure", amir.organisation_id, True) for k in photo_keys}
    assert db.session.get(Contribution, s.zara_photo.id) is not None  # another child's: untouched
    req = db.session.get(PrivacyRequest, req.id)
    assert req.state is RequestState.COMPLETED
    assert "2 photos deleted" in req.outcome and "Everything else about the child stays" in req.outcome
    # The family's message says it in words, without database counts like "2 kept".
    assert run_jobs() == 0
    sent = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == "aisha@family.example").order_by(OutboxMessage.id)
    ).all()
    completed = [m for m in sent if f"R{req.id}" in (m.subject or "") + (m.text or "")]
    assert completed and "2 photos deleted" in completed[-1].text
    assert " kept;" not in completed[-1].text and "anonymised" not in completed[-1].text
    # Doing it again changes nothing more, and says so.
    assert "no photos to delete" in partial.erase_part(s.amir, s.office, "photos")


def test_erasing_only_ratings_or_comments_and_bad_choices(s, client):
    from app.dataprotection.rights import partial

    assert partial.preview_part(s.amir, "ratings").removed == 3  # the comment and two photos were rated
    partial.erase_part(s.amir, s.office, "ratings")
    db.session.expire_all()
    ratings = db.session.scalars(sa.select(Engagement.rating).where(Engagement.pupil_id == s.amir.id)).all()
    assert ratings and all(r is None for r in ratings)
    assert db.session.get(Contribution, s.amir_photo.id) is not None
    comment_id = s.amir_comment.id
    partial.erase_part(s.amir, s.office, "comments")
    db.session.expire_all()
    assert db.session.get(Contribution, comment_id) is None
    assert db.session.get(Contribution, s.zara_comment.id) is not None
    with pytest.raises(erasure.ErasureError):
        partial.erase_part(s.amir, s.office, "everything-but")
    # Another school's office cannot erase part of this child.
    with pytest.raises(erasure.ErasureError) as refused:
        partial.erase_part(s.zara, f.staff(s.elm, Role.OFFICE), "photos")
    assert refused.value.status == 404
    assert db.session.get(Contribution, s.zara_photo.id) is not None
    # An unknown part in the page falls back to the whole preview, never a 500.
    f.login(client, s.office)
    assert client.get(f"/office/people/pupils/{s.amir.id}/erase?part=nonsense").status_code == 200
