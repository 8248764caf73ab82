"""The demo school: `flask --app wsgi demo` (run by `make run` on first start)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.passwords import check_password
from app.core.extensions import db
from app.models import Guardianship, Organisation, Pupil, SchoolClass, StaffMembership, User

DEMO_PASSWORD = "hometime-demo"
TABLES = (Organisation, SchoolClass, Pupil, User, Guardianship, StaffMembership)


def _counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in TABLES}


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _roles(user: User) -> set[str]:
    return {m.role.value for m in user.memberships}


def test_demo_creates_the_school_with_the_three_sign_ins(app, ctx):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "created" in result.output

    classes = db.session.scalars(sa.select(SchoolClass).order_by(SchoolClass.name)).all()
    assert [c.name for c in classes] == ["Year 1", "Year 3"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Pupil)) == 24
    assert {c.name: len(c.pupils) for c in classes} == {"Year 1": 12, "Year 3": 12}

    office, teacher, parent = (_user(f"{who}@example.org") for who in ("office", "teacher", "parent"))
    for user in (office, teacher, parent):
        assert user is not None
        assert check_password(user.password_hash, DEMO_PASSWORD), user.email
        assert not check_password(user.password_hash, "not-the-password")
        assert user.mfa_enabled_at is None  # MFA off for the demo
    assert _roles(office) == {"office"}
    assert _roles(teacher) == {"teacher"}
    assert all(teacher in c.teachers for c in classes)
    assert parent.is_parent and not parent.memberships

    children = db.session.scalars(
        sa.select(Pupil)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.parent_id == parent.id)
    ).all()
    assert len(children) == 2
    assert {child.school_class.name for child in children} == {"Year 1", "Year 3"}
    # Every pupil has a parent or carer; the demo parent is not linked to anyone else's child.
    linked = db.session.scalar(sa.select(sa.func.count(sa.distinct(Guardianship.pupil_id))))
    assert linked == 24


def test_running_demo_twice_creates_nothing_new(app, ctx):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    before = _counts()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "already exists" in second.output
    db.session.expire_all()
    assert _counts() == before
    assert before["organisations"] == 1


@pytest.fixture()
def production_app(app):
    from app import create_app

    prod = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "a-production-secret",
            "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"],
            "REDIS_URL": app.config["REDIS_URL"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    yield prod
    with prod.app_context():
        db.engine.dispose()


def test_demo_refuses_in_production(app, production_app):
    assert production_app.config["ENV_NAME"] == "production"
    result = production_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "never created in production" in result.output
    with app.app_context():
        assert _counts()["organisations"] == 0
        assert _user("parent@example.org") is None


def _signed_in(app, email: str):
    """A browser signed in through the real sign-in form with the demo password."""
    client = app.test_client()
    response = client.post("/auth/signin", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client


def test_the_demo_shows_a_week_of_use_to_the_teacher_and_the_parent(app, ctx):
    from app.core import storage
    from app.learning import topics
    from app.models import Contribution, TopicStatus, WeeklyTopic
    from tests.html_check import Page

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    school = db.session.scalar(sa.select(Organisation))
    monday = topics.monday_of(topics.school_today(school))
    published = db.session.scalars(
        sa.select(WeeklyTopic).where(
            WeeklyTopic.status == TopicStatus.PUBLISHED, WeeklyTopic.week_start == monday
        )
    ).all()
    assert sorted(c.name for t in published for c in t.classes) == ["Year 1", "Year 3"]
    photo = db.session.scalar(sa.select(Contribution).where(Contribution.photo_key.is_not(None)))
    assert storage.exists(photo.photo_key) and storage.exists(photo.thumb_key)

    teacher = _signed_in(app, "teacher@example.org")
    year1 = db.session.scalar(sa.select(SchoolClass).where(SchoolClass.name == "Year 1"))
    page = teacher.get(f"/teach/classes/{year1.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Growing and floating" in html
    assert "rated 5 out of 5" in html and "rated 4 out of 5" in html
    assert "The first shoot came out on day three!" in html
    assert "Star of the week" in html
    [img] = [e for e in Page(html).find_all("img") if "Photo from" in e.attrs.get("alt", "")]
    thumb = teacher.get(img.attrs["src"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.data[:3] == b"\xff\xd8\xff"  # a real JPEG, decrypted from storage

    parent = _signed_in(app, "parent@example.org")
    home = parent.get("/family/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    for title in ("Growing and floating", "Measuring our world", "Plant a bean in a jar", "Shadow measuring"):
        assert title in html, title
    assert "Star of the week" in html


def test_the_demo_pupils_upns_pass_the_roster_check(app, ctx):
    from app.families.roster_csv import upn_problem, with_check_letter

    assert with_check_letter("801200005001") == "B801200005001"  # the DfE's own example
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    upns = db.session.scalars(sa.select(Pupil.upn)).all()
    assert len(upns) == 24 and [u for u in upns if upn_problem(u)] == []
