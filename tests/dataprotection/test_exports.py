"""Access and portability exports (P22, P26, P31, P16): built by a real RQ worker from the data
inventory, reviewed by the office when another family shows, downloaded by the requester after a
fresh sign-in, expired after 7 days."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa

from app.core import storage
from app.core.extensions import db
from app.dataprotection.common import ownership
from app.dataprotection.exports import service as exports
from app.dataprotection.exports import zip as export_zip
from app.dataprotection.exports.texts import plain
from app.dataprotection.requests import intake
from app.dataprotection.retention import rules as retention
from app.models import ActivityLog, DataExport, ExportState, NotificationDelivery, OutboxMessage, Role, utcnow
from app.models.inventory import INVENTORY, RECIPIENTS, RETENTION, declared_columns
from tests import factories as f
from tests.html_check import without_tokens
from tests.privacy_data import access_request, days, in_progress, two_families
from tests.services import bucket_objects, recorded_deletions


@pytest.fixture()
def s(ctx):
    return two_families()


def _build(s, run_jobs, req) -> DataExport:
    export = exports.start(req.id, s.office)
    assert run_jobs() == 0
    db.session.expire_all()
    return db.session.get(DataExport, export.id)


def _download(client, user, export_id, fresh=True):
    f.login(client, user, fresh=fresh)
    return client.get(f"/privacy/exports/{export_id}/download")


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def _csv(zf, table):
    return list(csv.reader(io.StringIO(zf.read(f"{table}.csv").decode("utf-8-sig"))))


def _everything(zf) -> bytes:
    return b"".join(zf.read(name) for name in zf.namelist())


# --- the inventory drives it ------------------------------------------------------------------


@pytest.mark.promise("P22")
def test_every_table_with_a_personal_subject_is_exported_or_says_why_not():
    personal = {name for name, entry in INVENTORY.items() if entry.subject != "nobody"}
    exported = set(export_zip.exported_tables())
    explained = set(export_zip.NOT_EXPORTED)
    assert personal - exported - explained == set(), "give these an ownership path or a reason"
    assert exported & explained == set()
    assert set(ownership.OWNERSHIP) <= set(INVENTORY)
    assert all(ownership.OWNERSHIP[name].by_user or ownership.OWNERSHIP[name].by_pupil for name in personal)
    assert set(export_zip.SECTIONS) == exported, "every exported table needs a title and source"


@pytest.mark.promise("P22")
@pytest.mark.promise("P26")
@pytest.mark.promise("P31")
def test_a_childs_export_holds_every_field_explained_and_nothing_of_another_family(s, client, run_jobs):
    req = access_request(s, pupil=s.amir)
    export = _build(s, run_jobs, req)
    # Amir's comment names Zara, a classmate; one photo shows other children: the office checks.
    assert export.state is ExportState.REVIEW
    assert {(i["table"], i["row"]) for i in export.flagged} == {
        ("contributions", s.amir_comment.id),
        ("contributions", s.group_photo.id),
    }
    assert _download(client, s.aisha, export.id).status_code == 404  # not released yet
    exports.release(export.id, s.office, remove=set())
    zf = _zip(_download(client, s.aisha, export.id))

    data = json.loads(zf.read("data.json"))
    records = data["records"]
    assert [p["first_name"] for p in records["pupils"]] == ["Amir"]
    assert {c["body"] for c in records["contributions"] if c["body"]} == {
        "Amir counted 14 stairs with Zara at the park!"
    }
    assert [a["note"] for a in records["awards"]] == ["Lovely teamwork"]
    # Every declared column of every kind of record is there, in the CSV and the JSON.
    for table, rows in records.items():
        assert set(_csv(zf, table)[0]) == declared_columns(table), table
        assert all(set(row) == declared_columns(table) for row in rows), table
        assert len(_csv(zf, table)) == len(rows) + 1
    # Words, not numbers: the activity, the carer, the teacher.
    engagement = records["engagements"][0]
    assert "Numbers all around" in engagement["topic_activity_id"]
    assert engagement["done_by_id"] == "you"
    assert records["awards"][0]["given_by_id"] == "school staff"
    # The photos, decrypted, exactly as sent.
    assert sorted(n for n in zf.namelist() if n.startswith("photos/")) == sorted(
        [f"photos/{s.amir_photo.id}.jpg", f"photos/{s.group_photo.id}.jpg"]
    )
    assert zf.read(f"photos/{s.amir_photo.id}.jpg") == s.amir_bytes
    # Readable by a parent: what, why, how long, where from, who receives it, no automation.
    page = html.unescape(zf.read("index.html").decode())
    for table in records:
        assert plain(INVENTORY[table].purpose) in page
        assert plain(RETENTION[INVENTORY[table].retention]) in page
        assert export_zip.SECTIONS[table][1] in page
    assert RECIPIENTS["sendgrid"] in page or RECIPIENTS["hosting"] in page
    assert "No automated decisions" in page and export_zip.NO_AUTOMATED_DECISIONS in page
    assert data["about"]["automated_decisions"] == export_zip.NO_AUTOMATED_DECISIONS
    assert data["explanations"]["contributions"]["why"] == plain(INVENTORY["contributions"].purpose)
    # Nothing of the other family (the Moores) or of the other school.
    everything = _everything(zf)
    assert b"MOORE-SECRET" not in everything and b"ELM-ONLY" not in everything
    assert s.zara_bytes not in everything
    assert b"mo@family.example" not in everything


@pytest.mark.promise("P22")
def test_a_parents_own_export_holds_their_account_and_only_this_schools_records(s, client, run_jobs):
    req = access_request(s, pupil=None, kind="portability")
    export = _build(s, run_jobs, req)
    exports.release(export.id, s.office, remove=set())
    zf = _zip(_download(client, s.aisha, export.id))
    records = json.loads(zf.read("data.json"))["records"]
    user = records["users"][0]
    assert (user["name"], user["email"], user["mobile"]) == (
        "Aisha Khan",
        "aisha@family.example",
        "+447700900111",
    )
    # Aisha also has a child at Elm: her account-wide details (sign-in settings, the secrets'
    # markers) are not Oak's to hand out, only the contact details both schools hold.
    assert user["password_hash"] is None and user["last_login_at"] is None
    assert {c["purpose"] for c in records["consent_records"]} == {"service", "contribution_promo"}
    assert len(records["privacy_requests"]) == 1 and records["request_events"]
    assert b"ELM-ONLY" not in _everything(zf)  # her child at Elm belongs to Elm's copy
    assert b"MOORE-SECRET" not in _everything(zf)


@pytest.mark.promise("P22")
def test_removed_items_are_left_out_and_counted(s, client, run_jobs):
    req = access_request(s, pupil=s.amir)
    export = _build(s, run_jobs, req)
    exports.release(
        export.id,
        s.office,
        remove={f"contributions:{s.amir_comment.id}"},
        reasons={f"contributions:{s.amir_comment.id}": "other_person"},
    )
    assert db.session.get(DataExport, export.id).state is ExportState.QUEUED
    assert run_jobs() == 0
    db.session.expire_all()
    export = db.session.get(DataExport, export.id)
    assert export.state is ExportState.READY
    zf = _zip(_download(client, s.aisha, export.id))
    assert b"Zara at the park" not in _everything(zf)
    assert f"photos/{s.group_photo.id}.jpg" in zf.namelist()  # kept by the office
    assert "1 item was left out" in zf.read("index.html").decode()
    # The requester is told once it is ready (and not before).
    told = db.session.scalars(
        sa.select(NotificationDelivery.template).where(NotificationDelivery.user_id == s.aisha.id)
    ).all()
    assert told.count("export_ready") == 1
    sent = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.to == "aisha@family.example",
            OutboxMessage.subject.like("Your copy of the data is ready%"),
        )
    ).all()
    assert len(sent) == 1 and "/privacy/exports" in sent[0].text


@pytest.mark.promise("P22")
@pytest.mark.promise("P16")
def test_only_the_requester_downloads_after_a_fresh_signin_and_every_download_is_logged(
    s, app, client, run_jobs
):
    export = _build(s, run_jobs, access_request(s, pupil=s.zara))
    assert export.state is ExportState.REVIEW and export.flagged == []  # names nobody else, still checked
    assert _download(client, s.mo, export.id).status_code == 404  # nothing goes out unseen
    exports.release(export.id, s.office)
    assert _download(client, s.aisha, export.id).status_code == 404  # another family's
    stale = _download(client, s.mo, export.id, fresh=False)
    assert stale.status_code == 302 and "/auth/reauth" in stale.headers["Location"]
    other_office = f.staff(s.elm, Role.OFFICE)
    f.login(client, other_office)
    assert client.get(f"/office/exports/{export.id}").status_code == 404
    assert client.get(f"/office/exports/{export.id}/download").status_code == 404
    zf = _zip(_download(client, s.mo, export.id))
    assert b"MOORE-SECRET" in _everything(zf)
    f.login(client, s.office)
    assert client.get(f"/office/exports/{export.id}/download").status_code == 200
    db.session.expire_all()
    assert db.session.get(DataExport, export.id).download_count == 1  # the office's check is not counted
    logged = db.session.execute(
        sa.select(ActivityLog.user_id, ActivityLog.subject).where(ActivityLog.event == "export_downloaded")
    ).all()
    assert sorted(logged) == sorted([(s.mo.id, f"export:{export.id}"), (s.office.id, f"export:{export.id}")])
    # At rest, every stored file is encrypted: no zip, no text of the family's.
    stored = list(bucket_objects(app.config).values())
    assert stored and not any(b"PK\x03\x04" in blob or b"MOORE-SECRET" in blob for blob in stored)


@pytest.mark.promise("P22")
def test_an_export_expires_after_seven_days_and_its_files_are_gone(s, client, run_jobs):
    export = exports.release(_build(s, run_jobs, access_request(s, pupil=s.zara)).id, s.office)
    keys = exports.stored_keys(export.file_key)
    assert len(keys) >= 2 and all(storage.exists(k) for k in keys)
    assert export.expires_at - export.ready_at == days(7)
    retention.run_all(utcnow() + days(6))
    assert db.session.get(DataExport, export.id).state is ExportState.READY
    retention.run_all(utcnow() + days(8))
    db.session.expire_all()
    export = db.session.get(DataExport, export.id)
    assert (export.state, export.file_key) == (ExportState.EXPIRED, None)
    assert not any(storage.exists(k) for k in keys)
    school_id = s.zara.organisation_id
    assert recorded_deletions(keys) == {k: ("export expired", school_id, True) for k in keys}
    assert _download(client, s.mo, export.id).status_code == 410


def test_building_twice_changes_nothing_and_a_second_live_export_is_refused(s, run_jobs):
    req = access_request(s, pupil=s.zara)
    export = _build(s, run_jobs, req)
    key = export.file_key
    assert exports.build(export.id) is ExportState.REVIEW
    db.session.expire_all()
    assert db.session.get(DataExport, export.id).file_key == key
    with pytest.raises(exports.ExportError):
        exports.start(req.id, s.office)


def test_an_export_needs_a_request_for_a_copy_in_progress(s):
    from app.dataprotection.requests import intake

    waiting = intake.request_as_parent(s.mo, kind="access", pupil_id=s.zara.id)
    with pytest.raises(exports.ExportError, match="identity"):
        exports.start(waiting.id, s.office)
    erasure = access_request(s, pupil=s.amir, kind="erasure")
    with pytest.raises(exports.ExportError, match="access or portability"):
        exports.start(erasure.id, s.office)
    elm_office = f.staff(s.elm, Role.OFFICE)
    with pytest.raises(exports.ExportError) as refused:
        exports.start(waiting.id, elm_office)
    assert refused.value.status == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DataExport)) == 0


def test_the_office_reviews_and_releases_through_its_pages(s, client, run_jobs):
    req = access_request(s, pupil=s.amir)
    f.login(client, s.office)
    page = client.get("/office/exports")
    assert page.status_code == 200 and f"R{req.id}" in page.get_data(as_text=True)
    started = client.post(f"/office/requests/{req.id}/export")
    assert started.status_code == 303
    assert client.post(f"/office/requests/{req.id}/export").status_code == 409
    assert run_jobs() == 0
    export_id = db.session.scalar(sa.select(DataExport.id))
    review = client.get(f"/office/exports/{export_id}").get_data(as_text=True)
    assert "Check before release" in review and "Names found: Zara" in review
    photo = client.get(f"/office/exports/{export_id}/photos/{s.group_photo.id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert client.get(f"/office/exports/{export_id}/photos/{s.zara_photo.id}").status_code == 404
    bad = client.post(f"/office/exports/{export_id}/release", data={"remove": "users:1", "checked": "yes"})
    assert bad.status_code == 422
    unread = client.post(f"/office/exports/{export_id}/release", data={})
    assert unread.status_code == 422 and "read the copy" in unread.get_data(as_text=True)
    done = client.post(
        f"/office/exports/{export_id}/release",
        data={"remove": [f"contributions:{s.group_photo.id}"], "checked": "yes"},
    )
    assert done.status_code == 303
    assert run_jobs() == 0
    f.login(client, s.aisha)
    listing = client.get("/privacy/exports").get_data(as_text=True)
    assert f"/privacy/exports/{export_id}/download" in listing
    zf = _zip(client.get(f"/privacy/exports/{export_id}/download"))
    assert f"photos/{s.group_photo.id}.jpg" not in zf.namelist()


def test_the_privacy_pages_are_accessible_and_keep_to_the_csp(s, client, run_jobs):
    from tests.html_check import Page

    req = access_request(s, pupil=s.amir)
    export = _build(s, run_jobs, req)
    f.login(client, s.office)
    urls = [
        "/office/exports",
        f"/office/exports/{export.id}",
        "/office/people",
        f"/office/people/pupils/{s.amir.id}",
        f"/office/people/parents/{s.aisha.id}",
        f"/office/people/pupils/{s.amir.id}/erase",
        f"/office/people/parents/{s.mo.id}/erase",
        "/office/register",
    ]
    pages = {url: client.get(url) for url in urls}
    exports.release(export.id, s.office, remove=set())
    f.login(client, s.aisha)
    pages["/privacy/exports"] = client.get("/privacy/exports")
    for url, response in pages.items():
        assert response.status_code == 200, url
        page = Page(response.get_data(as_text=True))
        assert page.csp_violations() == [], url
        assert page.unlabelled_fields() == [], url
        assert len(page.find_all("h1")) == 1, url
        assert page.find("footer") is not None, url


# --- nothing released unseen: the office's review --------------------------------------------


@pytest.mark.promise("P22")
def test_blanking_out_names_applies_the_same_in_html_json_and_csv_and_the_review_is_recorded(
    s, client, run_jobs
):
    from app.models import RequestEvent

    req = access_request(s, pupil=s.amir)
    export = _build(s, run_jobs, req)
    comment = f"contributions:{s.amir_comment.id}"
    with pytest.raises(exports.ExportError, match="why"):  # a redaction needs its exemption
        exports.release(export.id, s.office, redact={comment})
    with pytest.raises(exports.ExportError, match="photo"):  # a photo cannot be blanked out
        exports.release(
            export.id,
            s.office,
            redact={f"contributions:{s.group_photo.id}"},
            reasons={f"contributions:{s.group_photo.id}": "other_person"},
        )
    db.session.rollback()
    exports.release(export.id, s.office, redact={comment}, reasons={comment: "other_person"})
    assert run_jobs() == 0
    db.session.expire_all()
    export = db.session.get(DataExport, export.id)
    assert export.state is ExportState.READY
    assert (export.reviewed_by_id, export.reviewed_at is not None) == (s.office.id, True)
    assert {i["id"]: (i["decision"], i["exemption"]) for i in export.flagged} == {
        comment: ("redact", "other_person"),
        f"contributions:{s.group_photo.id}": ("keep", None),
    }
    zf = _zip(_download(client, s.aisha, export.id))
    data = json.loads(zf.read("data.json"))
    page = html.unescape(zf.read("index.html").decode())
    csv_text = zf.read("contributions.csv").decode("utf-8-sig")
    expected = "Amir counted 14 stairs with [name removed] at the park!"
    assert expected in {c["body"] for c in data["records"]["contributions"]}
    assert expected in page and expected in csv_text
    assert b"Zara at the park" not in _everything(zf)
    assert "Another child's name was blanked out in 1" in page
    trail = db.session.scalars(sa.select(RequestEvent.note).where(RequestEvent.request_id == req.id)).all()
    assert any(
        n and "checked and released: 2 items checked: 1 kept as it is, 1 names blanked out" in n
        for n in trail
    )


@pytest.mark.promise("P22")
def test_the_readable_page_speaks_plainly_and_shows_no_secrets_or_internal_codes(s, client, run_jobs):
    s.aisha.password_hash = "pbkdf2:sha256:SECRET-HASH"
    s.aisha.totp_secret = "TOTP-SECRET-VALUE"
    db.session.commit()
    req = access_request(s, pupil=None, kind="access")
    req.requester_id = s.mo.id  # Mo's data is Oak's alone: the whole account
    db.session.commit()
    export = exports.release(_build(s, run_jobs, req).id, s.office)
    zf = _zip(_download(client, s.mo, export.id))
    page = html.unescape(zf.read("index.html").decode())
    for raw in ("Totp secret", "Password hash", "Session version", "Photo key", "Mfa enabled at", "(s)"):
        assert raw not in page, raw
    assert not __import__("re").search(r"\(P\d\d\)", page)
    assert "Two-step sign-in turned on" in page and "Emails about new topics" in page
    # Every scrolling table can be reached with the keyboard and is named.
    assert 'class="table-wrap" tabindex="0" role="region" aria-label="Your account"' in page


def test_the_office_reads_the_copy_before_release_and_opening_it_is_logged(s, client, run_jobs):
    req = access_request(s, pupil=s.amir)
    export = _build(s, run_jobs, req)
    f.login(client, s.office)
    page = client.get(f"/office/exports/{export.id}").get_data(as_text=True)
    assert f"/office/exports/{export.id}/preview/" in page and "I have read the copy" in page
    preview = client.get(f"/office/exports/{export.id}/preview/")
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]
    assert "Zara at the park" in html.unescape(preview.get_data(as_text=True))
    assert client.get(f"/office/exports/{export.id}/preview/style.css").mimetype == "text/css"
    photo = client.get(f"/office/exports/{export.id}/preview/photos/{s.amir_photo.id}.jpg")
    assert photo.status_code == 200 and photo.get_data() == s.amir_bytes
    assert client.get(f"/office/exports/{export.id}/preview/../../etc/passwd").status_code == 404
    assert client.get(f"/office/exports/{export.id}/preview/nothing.html").status_code == 404
    logged = db.session.scalars(sa.select(ActivityLog.event).where(ActivityLog.user_id == s.office.id)).all()
    assert logged.count("export_previewed") == 1
    # Another school's office, and a parent, see nothing.
    f.login(client, f.staff(s.elm, Role.OFFICE))
    assert client.get(f"/office/exports/{export.id}/preview/").status_code == 404
    f.login(client, s.aisha)
    assert client.get(f"/office/exports/{export.id}/preview/").status_code in (403, 404)
    # Released with a tick only; then the reviewer and time show on the page.
    f.login(client, s.office)
    done = client.post(f"/office/exports/{export.id}/release", data={"checked": "yes"})
    assert done.status_code == 303
    shown = client.get(f"/office/exports/{export.id}").get_data(as_text=True)
    assert "Checked by" in shown and s.office.name in shown and "2 items checked: 2 kept as it is" in shown


@pytest.mark.promise("P22")
def test_the_family_opens_its_copy_as_one_page_a_phone_can_read_with_its_photos_inside(s, client, run_jobs):
    export = exports.release(_build(s, run_jobs, access_request(s, pupil=s.zara)).id, s.office)
    f.login(client, s.mo, fresh=True)
    listing = client.get("/privacy/exports").get_data(as_text=True)
    opened, zipped = listing.index(f"/privacy/exports/{export.id}/copy/"), listing.index("/download")
    assert opened < zipped, "the readable page comes first, the zip second"
    page = client.get(f"/privacy/exports/{export.id}/copy/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "MOORE-SECRET" in text and "about your child" in text
    # One file: its style inside it, Zara's photo as a thumbnail inside it with its size, the
    # full size one tap away; nothing runs and nothing loads from elsewhere.
    assert "<style>" in text and 'rel="stylesheet"' not in text and "<script" not in text
    assert re.search(r'<img src="data:image/(jpeg|webp|png);base64,[^"]+" width="\d+" height="\d+"', text)
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    full = client.get(f"/privacy/exports/{export.id}/copy/photos/{s.zara_photo.id}.jpg")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert client.get(f"/privacy/exports/{export.id}/copy/../../x.jpg").status_code == 404
    # Only the requester opens it, after a fresh sign-in; opening it counts as taking a copy.
    f.login(client, s.mo, fresh=False)
    assert client.get(f"/privacy/exports/{export.id}/copy/").status_code == 302
    f.login(client, s.aisha, fresh=True)
    assert client.get(f"/privacy/exports/{export.id}/copy/").status_code == 404
    db.session.expire_all()
    assert db.session.get(DataExport, export.id).download_count == 1
    listing = _listing_after(client, s.mo)
    assert "You have opened or downloaded it once." in listing


def _listing_after(client, user) -> str:
    f.login(client, user, fresh=True)
    return client.get("/privacy/exports").get_data(as_text=True)


@pytest.mark.promise("P22")
def test_the_office_lists_its_own_schools_requests_waiting_for_a_copy_and_the_copies_made(
    s, client, run_jobs
):
    oak = access_request(s, pupil=s.amir)
    elm = intake.request_as_parent(s.aisha, kind="access", pupil_id=s.cal.id, organisation_id=s.elm.id)
    in_progress(elm.id, s.elm_office)
    f.login(client, s.office)
    page = without_tokens(client.get("/office/exports").get_data(as_text=True))
    waiting = page[page.index("Requests waiting for a copy") : page.index("Copies made")]
    assert f"<strong>R{oak.id}</strong>" in waiting and "about Amir" in waiting
    assert f"R{elm.id}" not in page and "Cal" not in page  # another school's request
    assert client.post(f"/office/requests/{oak.id}/export").status_code == 303
    page = without_tokens(client.get("/office/exports").get_data(as_text=True))
    waiting, made = page[: page.index("Copies made")], page[page.index("Copies made") :]
    assert f"R{oak.id}" not in waiting and "No request in progress is waiting for a copy." in waiting
    assert f"R{oak.id}: " in made and "Waiting to be made" in made
