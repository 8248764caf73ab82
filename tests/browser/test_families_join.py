"""Issue 3 end to end in a real browser: the office imports a CSV and invites everyone; a parent
joins from the emailed link on a 360x640 phone, with JavaScript off and with it on."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.demo import academic_year
from app.models import ConsentPurpose, ConsentRecord, OutboxMessage, Role, User, UserStatus
from tests import factories as f
from tests.browser.helpers import sign_in
from tests.roster_helpers import csv_bytes, template_row


@pytest.mark.promise("P01")
def test_office_imports_and_invites_and_a_parent_joins_on_a_phone(ctx, desktop, phone_any, run_jobs):
    org = f.school(name="Birch Primary")
    f.school_class(org, name="Year 2", year_group="2", academic_year=academic_year())
    office = f.staff(org, Role.OFFICE, email="office@birch.example")
    csv = csv_bytes(
        [
            template_row(
                1,
                "Year 2",
                first="Nia",
                last="Brook",
                year="2",
                contacts=[("Rae Brook", "rae@family.example", "07911 123456", "Mother", "No")],
            )
        ]
    )

    # The office, on a desktop: upload, preview, import.
    sign_in(desktop, office.email, f.PASSWORD)
    desktop.goto("/office/roster")
    desktop.set_input_files(
        "input[type=file]", files=[{"name": "pupils.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    desktop.get_by_role("button", name="Preview the import").click()
    desktop.get_by_role("button", name=re.compile(r"Import 1 pupil")).click()
    desktop.wait_for_url(re.compile(r"/office/roster/result/"))

    # Invite everyone not yet joined; a real RQ worker sends the invitation to the outbox.
    desktop.goto("/office/families")
    assert desktop.get_by_role("cell", name="Rae Brook", exact=True).is_visible()
    desktop.get_by_role("button", name="Invite everyone not yet joined").click()
    desktop.get_by_role("heading", name="Invite 1 family by email?").wait_for()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    desktop.get_by_role("button", name="Yes, invite 1 family").click()
    desktop.get_by_text("This page shows the progress").wait_for()
    assert "0 of 0" not in desktop.locator("main").inner_text()
    assert run_jobs() == 0
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == "rae@family.example"))
    assert mail is not None and "Birch Primary" in mail.subject
    path = re.search(r"https?://[^/\s]+(/family/join/\S+)", mail.text).group(1)

    # The parent, on a small phone.
    page = phone_any
    page.goto(path)
    assert page.get_by_role("heading", name="Join Birch Primary on Hometime").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    agree = page.get_by_role("checkbox", name=re.compile("I agree"))
    assert not agree.is_checked()
    page.get_by_role("button", name="Join").click()  # without the required consent
    page.get_by_role("alert").first.wait_for()
    assert "We can't create your account without it" in page.get_by_role("alert").first.inner_text()
    page.get_by_role("checkbox", name=re.compile("I agree")).check()
    page.get_by_role("button", name="Join").click()
    page.wait_for_url("**/family/")
    assert page.get_by_text("Nia").first.is_visible()

    rae = db.session.scalar(sa.select(User).where(User.email == "rae@family.example"))
    assert rae.status is UserStatus.ACTIVE
    consent = db.session.scalar(
        sa.select(ConsentRecord).where(
            ConsentRecord.user_id == rae.id, ConsentRecord.purpose == ConsentPurpose.SERVICE
        )
    )
    assert consent.granted and consent.organisation_id == org.id
    # The first, refused submission is a 422 the browser shows as a page: the only "problem".
    assert [p for p in page.problems if "422" not in p] == []
