"""Privacy-notice versions (P07): publishing with a plain-language summary, telling everyone,
the banner every signed-in person sees until they acknowledge a major change (recorded with the
version), and the dismissible line for a minor one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import consent
from app.core.extensions import db
from app.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    NotificationDelivery,
    PrivacyNotice,
    Role,
    utcnow,
)
from tests import factories as f


@pytest.fixture()
def school(ctx):
    org = f.school(name="Oak Primary")
    cls = f.school_class(org)
    mum, dad = f.parent(name="Mum"), f.parent(name="Dad")
    f.pupil(cls, mum)
    f.pupil(cls, dad)
    other = f.school(name="Elm Primary")
    stranger = f.parent(name="Elm parent")
    f.pupil(f.school_class(other), stranger)
    return {
        "org": org,
        "mum": mum,
        "dad": dad,
        "stranger": stranger,
        "office": f.staff(org, Role.OFFICE),
        "teacher": f.staff(org, Role.TEACHER, classes=[cls]),
    }


def _publish(client, version="2.0", major=True, **kw):
    data = {
        "version": version,
        "summary": "We now keep photos for one year instead of two.",
        "body": "Full text.\n\nSecond paragraph.",
        "confirm": "yes",
    }
    if major:
        data["major"] = "y"
    data.update(kw)
    return client.post("/office/notices", data=data)


def _banner(client, path="/privacy/"):
    page = client.get(path).get_data(as_text=True)
    main = page[page.index("<main") : page.index("</main>")]
    if "has changed its privacy notice" in main:
        return "major"
    if "has updated its privacy notice" in main:
        return "minor"
    return None


@pytest.mark.promise("P07")
def test_a_major_version_is_shown_to_everyone_until_each_acknowledges_it(client, school):
    f.login(client, school["office"])
    response = _publish(client)
    assert response.status_code == 303
    notice = db.session.scalar(sa.select(PrivacyNotice))
    assert notice.major and notice.published_at is not None
    assert notice.organisation_id == school["org"].id

    # Everyone it concerns is told; the other school's family is not.
    told = set(
        db.session.scalars(
            sa.select(NotificationDelivery.user_id).where(
                NotificationDelivery.template == "notice_changed",
                NotificationDelivery.event_key == f"notice:{notice.id}:published",
            )
        )
    )
    assert told == {school[k].id for k in ("mum", "dad", "office", "teacher")}

    for who in ("mum", "dad", "teacher", "office"):
        f.login(client, school[who])
        assert _banner(client) == "major", who
    page = client.get("/privacy/").get_data(as_text=True)
    assert "We now keep photos for one year instead of two." in page
    f.login(client, school["stranger"])
    assert _banner(client) is None
    with client.session_transaction() as sess:
        sess.clear()
    assert _banner(client) is None  # a visitor

    f.login(client, school["mum"])
    response = client.post(f"/privacy/notices/{notice.id}/acknowledge", data={"next": "/privacy/"})
    assert response.status_code == 303 and response.headers["Location"] == "/privacy/"
    row = db.session.scalar(
        sa.select(ConsentRecord).where(ConsentRecord.purpose == ConsentPurpose.NOTICE_ACK)
    )
    assert (row.user_id, row.notice_id, row.granted) == (school["mum"].id, notice.id, True)
    assert _banner(client) is None and _banner(client, "/family/") is None
    f.login(client, school["dad"])
    assert _banner(client, "/family/") == "major"  # still, until he acknowledges too

    f.login(client, school["office"])
    assert "1 person" in client.get("/office/notices").get_data(as_text=True)


@pytest.mark.promise("P07")
def test_a_minor_version_shows_a_line_that_can_be_dismissed(client, school):
    f.login(client, school["office"])
    _publish(client, version="1.1", major=False, summary="New phone number for the office.")
    notice = db.session.scalar(sa.select(PrivacyNotice))
    f.login(client, school["mum"])
    assert _banner(client) == "minor"
    assert "New phone number for the office." in client.get("/privacy/").get_data(as_text=True)
    response = client.post(
        f"/privacy/notices/{notice.id}/acknowledge", data={"next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"  # never to another site
    assert _banner(client) is None


@pytest.mark.promise("P07")
def test_a_parent_who_joined_under_a_version_is_asked_again_only_for_a_later_major_one(client, school):
    first = PrivacyNotice(
        organisation_id=school["org"].id,
        version="1.0",
        summary="First",
        body="b",
        major=True,
        published_at=utcnow() - timedelta(days=30),
    )
    db.session.add(first)
    db.session.commit()
    consent.record(
        school["mum"].id,
        ConsentPurpose.SERVICE,
        True,
        method=ConsentMethod.WEB_FORM,
        organisation_id=school["org"].id,
    )
    db.session.commit()
    f.login(client, school["mum"])
    assert _banner(client) is None  # she agreed to 1.0 when she joined

    f.login(client, school["office"])
    _publish(client, version="1.1", major=False, summary="Typo fixed")
    _publish(client, version="2.0", major=True, summary="Photos now shared with the trust")
    _publish(client, version="2.1", major=False, summary="New office address")
    newest = db.session.scalar(sa.select(PrivacyNotice).where(PrivacyNotice.version == "2.1"))
    f.login(client, school["mum"])
    page = client.get("/privacy/").get_data(as_text=True)
    assert _banner(client) == "major"  # a minor version after a major one does not hide it
    assert "Photos now shared with the trust" in page and "New office address" in page
    client.post(f"/privacy/notices/{newest.id}/acknowledge")
    assert _banner(client) is None


def test_publishing_checks_the_version_and_the_summary(client, school):
    f.login(client, school["office"])
    assert _publish(client).status_code == 303
    again = _publish(client)
    assert again.status_code == 422 and "Version 2.0 already exists" in again.get_data(as_text=True)
    empty = _publish(client, version="3.0", summary="  ")
    assert empty.status_code == 422 and "Say in plain words what changed" in empty.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyNotice)) == 1
    f.login(client, school["teacher"])
    assert _publish(client, version="9").status_code == 403


@pytest.mark.promise("P12")
def test_nobody_acknowledges_a_notice_that_is_not_theirs(client, school):
    f.login(client, school["office"])
    _publish(client)
    notice = db.session.scalar(sa.select(PrivacyNotice))
    f.login(client, school["stranger"])
    assert client.post(f"/privacy/notices/{notice.id}/acknowledge").status_code == 404
    assert client.post("/privacy/notices/999999/acknowledge").status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.purpose == ConsentPurpose.NOTICE_ACK)
        )
        == 0
    )


def test_staff_pages_do_not_carry_the_families_notice_banner(client, school):
    f.login(client, school["office"])
    assert _publish(client).status_code == 303
    f.login(client, school["teacher"])
    assert _banner(client, "/teach/") is None  # at work: no banner written for families
    assert _banner(client) == "major"  # their own privacy page still tells them
    f.login(client, school["office"])
    assert _banner(client, "/office/") is None


@pytest.mark.promise("P07")
def test_publishing_shows_what_families_will_see_and_asks_first(client, school):
    f.login(client, school["office"])
    preview = _publish(client, confirm="")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Check version 2.0 before publishing" in page
    assert "We now keep photos for one year instead of two." in page and "Second paragraph." in page
    assert "Nothing has been sent yet" in page and "Publish version 2.0 and tell" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyNotice)) == 0
    back = _publish(client, confirm="", edit="yes").get_data(as_text=True)
    assert "Preview before publishing" in back and "Second paragraph." in back
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyNotice)) == 0
    assert _publish(client).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyNotice)) == 1


def test_the_versions_page_lists_the_notice_families_see_before_the_school_publishes_its_own(client, school):
    db.session.add(
        PrivacyNotice(
            organisation_id=None,
            version="1.0",
            major=False,
            published_at=utcnow(),
            summary="Hometime's notice.",
            body="Text.",
        )
    )
    db.session.commit()
    f.login(client, school["office"])
    page = client.get("/office/notices").get_data(as_text=True)
    assert "No version has been published" not in page
    assert "version 1.0 (Hometime's own notice: this school has not published its own yet)" in page
    _publish(client)
    page = client.get("/office/notices").get_data(as_text=True)
    assert "What families see now" in page and "version 2.0, published" in page


@pytest.fixture()
def second_app(app, _servers):
    """Another instance of Hometime on the same database and Redis, as a second gunicorn worker
    or a second web host would be."""
    from app import create_app

    other = create_app(
        {
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            **_servers["s3"],
        }
    )
    other.test_client_class = app.test_client_class
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.promise("P07")
def test_a_notice_published_on_one_instance_shows_on_the_next_page_served_by_another(
    client, school, second_app
):
    f.login(client, school["mum"])
    assert "has changed its privacy notice" not in client.get("/family/").get_data(as_text=True)
    assert "dpo@new.example" not in client.get("/family/").get_data(as_text=True)

    office = second_app.test_client()
    f.login(office, school["office"])
    assert _publish(office).status_code == 303
    with second_app.app_context():
        db.session.get(type(school["org"]), school["org"].id).dpo_email = "dpo@new.example"
        db.session.commit()

    page = client.get("/family/").get_data(as_text=True)
    assert "Oak Primary has changed its privacy notice." in page  # the home's strip
    assert "dpo@new.example" in page  # the footer's contact
    assert "Oak Primary has changed its privacy notice" in client.get("/privacy/").get_data(as_text=True)


def test_the_family_home_reads_the_banner_and_the_contacts_with_the_signed_in_person(client, school):
    """The layout's notice banner and privacy contacts are columns of the user loader's query,
    not queries of their own on every page."""
    from tests.queries import statements

    f.login(client, school["office"])
    assert _publish(client).status_code == 303
    f.login(client, school["mum"])
    client.get("/family/")  # the first page of the sign-in may record it
    with statements() as seen:
        page = client.get("/family/").get_data(as_text=True)
    assert (
        "Oak Primary has changed its privacy notice." in page
        and "the data protection officer for Oak Primary" in page
    )
    about_notices = [s for s in seen if "privacy_notices" in s]
    assert len(about_notices) == 1 and "user_sessions" in about_notices[0], seen
    # the footer's schools: no query of their own (it was SELECT organisations... WHERE id IN
    # the parent's children's schools)
    assert not [s for s in seen if s.startswith("SELECT organisations.")], seen
