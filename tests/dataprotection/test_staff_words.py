"""What the school office meets, in words it uses: where it lands after signing in, the breach
page's urgency and the ICO's reporting page, request kinds and retention kinds in plain words,
and the roster template downloaded rather than swapped into the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import Breach, Role, utcnow
from tests import factories as f
from tests.dataprotection.test_breaches import _record


@pytest.fixture()
def school(ctx):
    org = f.school(name="Oak Primary", dpo_email="dpo@oak.example")
    cls = f.school_class(org, name="Robins")
    return {
        "org": org,
        "office": f.staff(org, Role.OFFICE, name="Olive Office", email="olive@oak.example"),
        "teacher": f.staff(org, Role.TEACHER, classes=[cls], name="Tess Teacher", email="tess@oak.example"),
    }


def _signin(client, email):
    return client.post("/auth/signin", data={"email": email, "password": f.PASSWORD})


def test_the_office_lands_on_the_office_home_and_a_teacher_on_their_classes(client, school):
    assert _signin(client, "olive@oak.example").headers["Location"].endswith("/office/")
    client.post("/auth/signout")
    with client.session_transaction() as sess:
        sess.clear()
    assert _signin(client, "tess@oak.example").headers["Location"].endswith("/teach/")


@pytest.mark.promise("P29")
def test_the_breach_page_says_how_urgent_links_to_the_ico_and_leaves_families_told_empty(client, school):
    f.login(client, school["office"])
    _record(client, (utcnow() - timedelta(hours=60)).replace(second=0, microsecond=0))
    breach = db.session.scalar(sa.select(Breach))
    page = client.get(f"/office/breaches/{breach.id}").get_data(as_text=True)
    assert "Urgent:" in page and "countdown-urgent" in page  # in words, not colour alone
    assert 'href="https://ico.org.uk/for-organisations/report-a-breach/"' in page
    told = re.search(r'<input[^>]*name="families_told_at"[^>]*>', page).group(0)
    assert 'value=""' in told or "value=" not in told


def test_request_kinds_and_retention_kinds_are_in_words(client, school):
    f.login(client, school["office"])
    new = client.get("/office/requests/new").get_data(as_text=True)
    assert "A copy of their data (access)" in new and "Delete their data (erasure)" in new
    assert ">access<" not in new and ">erasure<" not in new
    retention = client.get("/office/retention").get_data(as_text=True)
    assert "Children&#39;s records" in retention or "Children's records" in retention
    assert "<td>activity log</td>" not in retention and not re.search(r"\(P\d\d\)", retention)


def test_the_roster_template_link_is_a_real_download_not_boosted(client, school):
    f.login(client, school["office"])
    page = client.get("/office/roster").get_data(as_text=True)
    link = re.search(r"<a [^>]*>Download the template \(CSV\)</a>", page).group(0)
    assert 'hx-boost="false"' in link and "download" in link
