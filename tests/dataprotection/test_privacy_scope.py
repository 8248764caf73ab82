"""A school links, exports and changes only the data it is controller of (P12): its own families
and staff, and of a person linked to several schools only the rows that belong to it. Tried as
another school's office would, through the pages; the export is read from the downloaded zip."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.requests import workflow as pr
from app.models import (
    ActivityLog,
    DataExport,
    NotificationDelivery,
    Organisation,
    PrivacyRequest,
    UsageEvent,
    UsageKind,
)
from tests import factories as f
from tests.privacy_data import two_families


@pytest.fixture()
def s(ctx):
    found = two_families()  # Oak: Aisha (also at Elm with Cal) and Mo (Oak only)
    for who, ip in ((found.aisha, "198.51.100.7"), (found.mo, "203.0.113.9")):
        db.session.add(ActivityLog(user_id=who.id, event="signin", detail="password", ip=ip))
        db.session.add(UsageEvent(user_id=who.id, pupil_id=None, kind=UsageKind.SESSION))
    # A sign-in filed under Oak (as staff sign-ins are) is still about the whole account.
    db.session.add(
        ActivityLog(user_id=found.aisha.id, event="signin", ip="192.0.2.44", organisation_id=found.org.id)
    )
    db.session.commit()
    return found


def _log_and_export(client, office, email, run_jobs) -> tuple[PrivacyRequest, bytes]:
    """The office logs an emailed access request, checks it, builds the export and downloads
    it; the request and every byte of the zip."""
    f.login(client, office)
    today = pr.local_today(db.session.get(Organisation, office.memberships[0].organisation_id))
    r = client.post(
        "/office/requests/new",
        data={
            "kind": "access",
            "channel": "email",
            "requester_name": "Someone",
            "requester_email": email,
            "received_on": (today - timedelta(days=1)).isoformat(),
            "details": "A copy of my data",
        },
    )
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    req = db.session.scalars(sa.select(PrivacyRequest).order_by(PrivacyRequest.id.desc())).first()
    for step in ("identity_check", "in_progress"):
        assert client.post(f"/office/requests/{req.id}/step", data={"to": step}).status_code == 303
    assert client.post(f"/office/requests/{req.id}/export").status_code == 303
    assert run_jobs() == 0
    db.session.expire_all()
    export = db.session.scalar(sa.select(DataExport).where(DataExport.request_id == req.id))
    if export.state.value == "review":
        released = client.post(f"/office/exports/{export.id}/release", data={"checked": "yes"})
        assert released.status_code == 303
        assert run_jobs() == 0
    download = client.get(f"/office/exports/{export.id}/download")
    assert download.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(download.get_data()))
    db.session.refresh(req)
    return req, zf


def _everything(zf) -> bytes:
    return b"".join(zf.read(name) for name in zf.namelist())


@pytest.mark.promise("P12")
def test_another_schools_parent_is_not_linked_and_not_exported(client, s, run_jobs):
    req, zf = _log_and_export(client, s.elm_office, "mo@family.example", run_jobs)
    assert req.requester_id is None  # recorded as a person with no account at Elm
    everything = _everything(zf)
    for secret in (b"MOORE-SECRET", b"Mo Moore", b"203.0.113.9", s.zara_bytes):
        assert secret not in everything
    records = json.loads(zf.read("data.json"))["records"]
    assert set(records) <= {"privacy_requests", "request_events", "data_exports"}
    assert all(r["organisation_id"] != s.org.id for r in records["privacy_requests"])
    # Mo's account is told nothing on Elm's behalf.
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(NotificationDelivery)
            .where(NotificationDelivery.user_id == s.mo.id, NotificationDelivery.organisation_id == s.elm.id)
        )
        == 0
    )


@pytest.mark.promise("P12")
def test_a_parent_of_two_schools_gets_only_this_schools_rows(client, s, run_jobs):
    req, zf = _log_and_export(client, s.elm_office, "aisha@family.example", run_jobs)
    assert req.requester_id == s.aisha.id  # she is one of Elm's families
    everything = _everything(zf)
    assert b"ELM-ONLY" in everything  # Cal's comment at Elm
    for oak_only in (b"Amir counted", b"Bea loved", b"Amir", s.amir_bytes, b"198.51.100.7", b"192.0.2.44"):
        assert oak_only not in everything
    records = json.loads(zf.read("data.json"))["records"]
    user = records["users"][0]
    assert (user["name"], user["email"], user["mobile"]) == (
        "Aisha Khan",
        "aisha@family.example",
        "+447700900111",
    )
    assert user["password_hash"] is None and user["last_login_at"] is None
    assert "activity_log" not in records or all(row["event"] != "signin" for row in records["activity_log"])
    assert all(row["pupil_id"] for row in records.get("usage_events", []))


@pytest.mark.promise("P12")
def test_a_parent_of_one_school_gets_their_whole_account(client, s, run_jobs):
    req, zf = _log_and_export(client, s.office, "mo@family.example", run_jobs)
    assert req.requester_id == s.mo.id
    records = json.loads(zf.read("data.json"))["records"]
    assert records["users"][0]["password_hash"] == "set"  # never the hash itself
    assert "203.0.113.9" in {row["ip"] for row in records["activity_log"]}
    assert b"MOORE-SECRET" in _everything(zf) and b"ELM-ONLY" not in _everything(zf)


@pytest.mark.promise("P12")
def test_another_school_cannot_correct_restrict_or_erase_a_family_it_does_not_have(client, s):
    f.login(client, s.elm_office)
    mo_before = (s.mo.name, s.mo.email, s.mo.restricted_at)
    assert (
        client.post(
            f"/office/people/parents/{s.mo.id}/correct",
            data={"field": "email", "value": "elm@attacker.example"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/office/people/parents/{s.mo.id}/flag", data={"kind": "restriction", "action": "set"}
        ).status_code
        == 404
    )
    assert client.post(f"/office/people/parents/{s.mo.id}/erase", data={"e-confirm": "y"}).status_code == 404
    for pupil in (s.zara, s.amir):
        assert (
            client.post(
                f"/office/people/pupils/{pupil.id}/correct", data={"field": "first_name", "value": "Changed"}
            ).status_code
            == 404
        )
        assert (
            client.post(f"/office/people/pupils/{pupil.id}/erase", data={"e-confirm": "y"}).status_code == 404
        )
    # Aisha is Elm's family too, but erasing her account would take Oak's records with it.
    r = client.post(f"/office/people/parents/{s.aisha.id}/erase", data={"e-confirm": "y"})
    assert r.status_code == 422 and "another school" in r.get_data(as_text=True)
    db.session.expire_all()
    assert (s.mo.name, s.mo.email, s.mo.restricted_at) == mo_before
    assert (s.amir.first_name, s.amir.erased_at, s.zara.first_name) == ("Amir", None, "Zara")
    assert s.aisha.status.value == "active"
