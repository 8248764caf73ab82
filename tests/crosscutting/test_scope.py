"""Need to know (P12): another school's, class's or family's records answer 404; the wrong kind
of account gets 403; nobody signed in is sent to sign in.

Table-driven: a new route is covered by adding one line to CASES (or LISTS for pages that list
records).  ``{name}`` in a URL is replaced by the id of that record in the two-school world below.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.models import Role
from tests import factories as f
from tests.html_check import Page, without_tokens

# actor, URL, expected status
CASES = [
    # a teacher sees only the classes they teach, and only their pupils
    ("teacher_a1", "/teach/classes/{class_a1}", 200),
    ("teacher_a1", "/teach/pupils/{kid_a1}", 200),
    ("teacher_a1", "/teach/classes/{class_a2}", 404),  # same school, another class
    ("teacher_a1", "/teach/pupils/{kid_a2}", 404),
    ("teacher_a1", "/teach/classes/{class_b1}", 404),  # another school
    ("teacher_a1", "/teach/pupils/{kid_b1}", 404),
    ("teacher_a1", "/teach/classes/999999", 404),  # a record that does not exist: the same answer
    ("teacher_b1", "/teach/classes/{class_a1}", 404),
    ("teacher_b1", "/teach/pupils/{kid_a1}", 404),
    # the office sees every class of its own school, none of another's
    ("office_a", "/teach/classes/{class_a2}", 200),
    ("office_a", "/teach/pupils/{kid_a2}", 200),
    ("office_a", "/teach/classes/{class_b1}", 404),
    ("office_a", "/teach/pupils/{kid_b1}", 404),
    ("office_b", "/teach/pupils/{kid_a1}", 404),
    ("office_a", "/office/", 200),
    # a trust's DPO sees the trust's schools only
    ("trust_dpo", "/teach/classes/{class_a1}", 200),
    ("trust_dpo", "/teach/classes/{class_b1}", 404),
    # a parent sees only their own children
    ("parent_a1", "/family/children/{kid_a1}", 200),
    ("parent_a1", "/family/children/{kid_a2}", 404),  # another family, same school
    ("parent_a1", "/family/children/{kid_b1}", 404),  # another school
    ("parent_unlinked", "/family/children/{kid_a1}", 404),  # the school removed the link
    # the wrong kind of account
    ("parent_a1", "/teach/", 403),
    ("parent_a1", "/teach/classes/{class_a1}", 403),
    ("parent_a1", "/teach/pupils/{kid_a1}", 403),
    ("parent_a1", "/office/", 403),
    ("teacher_a1", "/family/", 403),
    ("teacher_a1", "/family/children/{kid_a1}", 403),
    ("teacher_a1", "/office/", 403),  # a teacher is not the office
    # nobody signed in
    ("anonymous", "/teach/", 302),
    ("anonymous", "/teach/classes/{class_a1}", 302),
    ("anonymous", "/teach/pupils/{kid_a1}", 302),
    ("anonymous", "/family/", 302),
    ("anonymous", "/family/children/{kid_a1}", 302),
    ("anonymous", "/office/", 302),
]

# actor, URL, what the page must show, what it must not
LISTS = [
    ("teacher_a1", "/teach/", ["Class A1"], ["Class A2", "Class B1"]),
    ("office_a", "/teach/", ["Class A1", "Class A2"], ["Class B1"]),
    ("office_a", "/office/", ["Class A1", "Class A2"], ["Class B1"]),
    ("office_b", "/office/", ["Class B1"], ["Class A1", "Class A2"]),
    ("teacher_a1", "/teach/classes/{class_a1}", ["Ada Able"], ["Ben Baker", "Cal Cole"]),
    ("parent_a1", "/family/", ["Ada Able"], ["Ben Baker", "Cal Cole"]),
]


@pytest.fixture()
def world(ctx):
    """Two schools (A in a trust, B not); A has classes A1 and A2, B has B1; a child in each."""
    trust = f.trust()
    school_a, school_b = f.school(name="School A", trust_id=trust.id), f.school(name="School B")
    class_a1 = f.school_class(school_a, name="Class A1")
    class_a2 = f.school_class(school_a, name="Class A2")
    class_b1 = f.school_class(school_b, name="Class B1")
    people = {
        "teacher_a1": f.staff(school_a, Role.TEACHER, classes=[class_a1]),
        "teacher_b1": f.staff(school_b, Role.TEACHER, classes=[class_b1]),
        "office_a": f.staff(school_a, Role.OFFICE),
        "office_b": f.staff(school_b, Role.OFFICE),
        "trust_dpo": f.staff(None, Role.DPO, trust_id=trust.id),
        "parent_a1": f.parent(),
        "parent_a2": f.parent(),
        "parent_b1": f.parent(),
        "parent_unlinked": f.parent(),
    }
    kid_a1 = f.pupil(class_a1, people["parent_a1"], first_name="Ada", last_name="Able")
    kid_a2 = f.pupil(class_a2, people["parent_a2"], first_name="Ben", last_name="Baker")
    kid_b1 = f.pupil(class_b1, people["parent_b1"], first_name="Cal", last_name="Cole")
    _unlink(people["parent_unlinked"], kid_a1)
    ids = {
        "class_a1": class_a1.id,
        "class_a2": class_a2.id,
        "class_b1": class_b1.id,
        "kid_a1": kid_a1.id,
        "kid_a2": kid_a2.id,
        "kid_b1": kid_b1.id,
    }
    return people, ids


def _unlink(parent, pupil) -> None:
    from app.core.extensions import db
    from app.models import Guardianship, RemovedBy, utcnow

    db.session.add(
        Guardianship(parent_id=parent.id, pupil_id=pupil.id, removed_at=utcnow(), removed_by=RemovedBy.SCHOOL)
    )
    db.session.commit()


def _open(client, world, actor: str, url: str):
    people, ids = world
    if actor != "anonymous":
        f.login(client, people[actor])
    return client.get(url.format(**ids))


@pytest.mark.promise("P12")
@pytest.mark.parametrize("actor, url, status", CASES, ids=[f"{a} {u} {s}" for a, u, s in CASES])
def test_who_may_open_what(client, world, actor, url, status):
    response = _open(client, world, actor, url)
    assert response.status_code == status
    if status == 302:  # to sign in, and back here afterwards
        target = urlsplit(response.headers["Location"])
        assert target.path == "/auth/signin"
        assert parse_qs(target.query)["next"][0] == url.format(**world[1])
    if status == 404:  # indistinguishable from a record that does not exist
        assert "We can" in response.get_data(as_text=True)
        assert "Ada" not in without_tokens(response.get_data(as_text=True))


@pytest.mark.promise("P12")
@pytest.mark.parametrize("actor, url, shown, hidden", LISTS, ids=[f"{a} {u}" for a, u, *_ in LISTS])
def test_lists_show_only_what_the_person_may_see(client, world, actor, url, shown, hidden):
    response = _open(client, world, actor, url)
    assert response.status_code == 200
    main = Page(response.get_data(as_text=True)).find("main").all_text()
    for text in shown:
        assert text in main
    for text in hidden:
        assert text not in main
