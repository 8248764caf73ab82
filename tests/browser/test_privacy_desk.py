"""The privacy desk in a real browser: the office handles an access request at 1280 px (log it,
check identity, start the clock, build the copy of the data, complete it), and the parent makes
a request and downloads the copy at 390 px."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.core.extensions import db
from app.dataprotection.requests.workflow import local_today
from app.models import DataExport, ExportState, PrivacyRequest, RequestState, Role
from tests import factories as f
from tests.browser.conftest import _page
from tests.browser.helpers import sign_in

WIDE = "document.documentElement.scrollWidth"
PHONE_390 = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture()
def phone390(browser, live_server):
    """A 390x844 phone page with JavaScript on."""
    context, page = _page(browser, live_server, **PHONE_390)
    yield page
    context.close()


@pytest.mark.promise("P27")
@pytest.mark.promise("P28")
def test_the_office_handles_an_access_request_and_the_parent_downloads_it(
    ctx, desktop, phone390, run_jobs, screenshot
):
    org = f.school(name="Oak Primary")
    cls = f.school_class(org, name="Owls")
    mum = f.parent(name="Mina Patel", email="mina@family.example")
    child = f.pupil(cls, mum, first_name="Ravi", last_name="Patel")
    f.staff(org, Role.OFFICE, name="Olive Office", email="olive@oak.example")
    arrived = local_today(org) - timedelta(days=3)

    # --- the office, 1280 px ---------------------------------------------------------------
    page = desktop
    sign_in(page, "olive@oak.example")
    page.goto("/office/requests")
    page.get_by_role("link", name="Log a request").click()
    page.get_by_label("Kind of request").select_option("access")
    page.get_by_label("How it arrived").select_option("letter")
    page.get_by_label("The day it arrived").fill(arrived.isoformat())
    page.get_by_label("Requester's name").fill("Mina Patel")
    page.get_by_label("Requester's email (optional)").fill("mina@family.example")
    page.get_by_label("About a child (optional)").select_option(label="Ravi Patel")
    page.get_by_label("What they asked for").fill("A copy of everything about Ravi")
    page.get_by_role("button", name="Log the request").click()
    page.wait_for_url("**/office/requests/*")
    clock = page.locator("#clock")
    assert arrived.strftime("%A %-d %B %Y") in clock.inner_text()

    page.get_by_role("button", name="Check identity first").click()
    page.get_by_role("button", name="Identity checked: start the clock").click()
    page.get_by_role("button", name="Build the copy of the data").click()
    page.wait_for_url("**/office/exports/*")
    assert run_jobs() == 0  # the worker builds the zip
    page.reload()
    assert "Check before release" in page.locator("main").inner_text()  # nothing goes out unseen
    page.get_by_label("I have read the copy").check()
    page.get_by_role("button", name="Release the copy to the requester").click()
    expect(page.locator("main")).to_contain_text("Released to the requester")
    assert "Checked by Olive Office" in page.locator("main").inner_text()

    req = db.session.scalar(sa.select(PrivacyRequest))
    page.goto(f"/office/requests/{req.id}")
    page.get_by_label("What was done (the requester is told)").fill("Copy sent as a download")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#trail")).to_contain_text("In progress → Completed")
    trail = page.locator("#trail").inner_text()
    for step in (
        "Received",
        "Received → Checking identity",
        "Checking identity → In progress",
        "In progress → Completed",
        "Olive Office",
    ):
        assert step in trail, step
    assert page.evaluate(WIDE) <= 1280
    screenshot(page, "privacy-desk-request-1280")
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, req.id).state is RequestState.COMPLETED
    assert page.problems == []

    # --- the parent, 390 px ----------------------------------------------------------------
    phone = phone390
    sign_in(phone, "mina@family.example")
    phone.goto("/privacy/")
    phone.get_by_role("link", name="Make a request").first.click()
    phone.wait_for_url("**/privacy/requests/new")
    phone.get_by_label("Correct your data").check()
    phone.get_by_label("Ravi Patel").check()
    phone.get_by_label("Anything the school should know (optional)").fill("Ravi's class is Owls")
    phone.get_by_role("button", name="Send the request").click()
    phone.wait_for_url("**/sent")
    assert "Your request has been sent" in phone.locator("h1").inner_text()
    assert phone.evaluate(WIDE) <= 390, "the page scrolls sideways at 390 px"

    phone.goto("/privacy/requests")
    listing = phone.locator("main").inner_text()
    assert "Correct your data for Ravi" in listing and "Completed" in listing
    phone.get_by_role("link", name="Your data downloads").click()
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download everything as a zip file").click()
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        assert "index.html" in archive.namelist()
    assert phone.evaluate(WIDE) <= 390
    screenshot(phone, "privacy-requests-390")
    db.session.expire_all()
    export = db.session.scalar(sa.select(DataExport))
    assert export.state is ExportState.READY and export.download_count >= 1
    assert phone.problems == []
    assert child.id == db.session.scalar(
        sa.select(PrivacyRequest.subject_pupil_id).where(PrivacyRequest.kind == "rectification")
    )


@pytest.mark.promise("P27")
def test_someone_without_an_account_asks_and_confirms_with_javascript_off(ctx, phone_nojs):
    import re

    from app.models import OutboxMessage

    f.school(name="Oak Primary")
    page = phone_nojs
    page.goto("/privacy/")
    page.get_by_role("link", name="Make a request").first.click()
    page.wait_for_url("**/privacy/ask")
    page.get_by_label("Have your data deleted").check()
    page.get_by_label("Me", exact=True).check()
    page.get_by_label("Your full name").fill("Former Parent")
    page.get_by_label("Your email address").fill("former@family.example")
    page.get_by_role("button", name="Email me the confirmation link").click()
    assert "Check your email" in page.locator("h1").inner_text()

    text = db.session.scalar(sa.select(OutboxMessage.text).where(OutboxMessage.to == "former@family.example"))
    link = re.search(r"/privacy/requests/confirm/[\w-]+", text).group(0)
    page.goto(link)
    assert db.session.scalar(sa.select(PrivacyRequest.confirmed_at)) is None  # a GET changes nothing
    page.get_by_role("button", name="Send my request").click()
    assert "Your request has been sent" in page.locator("h1").inner_text()
    db.session.expire_all()
    req = db.session.scalar(sa.select(PrivacyRequest))
    assert req.confirmed_at is not None and req.due_on is not None
    assert f"R{req.id}" in page.locator("main").inner_text()
    assert page.evaluate(WIDE) <= 360
    assert page.problems == []
