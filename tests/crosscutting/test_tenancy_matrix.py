"""Tenancy holds for people, not only for rows (P12).

Two schools on one Hometime (tests/tenancy_data.py). Each persona walks every rule of
``app.url_map``: every page without an id, and every page with an id with the ids of records the
persona must not see put in its place (GET, and POST for records they must not change). Nothing
answers 500; nothing they must not see answers 200 or shows its identifying text on any page;
nothing they must not change changes. The rule (docs/security.md): a member of staff holds
(school, role) pairs and every permission is asked of one school, so a teacher here who is office
at the other school has office powers there only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.routing import Rule

from app.core.extensions import db
from app.models import Award, Contribution, Pupil, Role
from tests import factories as f
from tests import tenancy_data as td
from tests.teaching import next_monday


@dataclass(frozen=True)
class Persona:
    """What a persona may see, by the design rule: every record of a school where they are
    office; the records of a class they teach; their school's library; their own family's."""

    office_at: frozenset = frozenset()
    teaches: frozenset = frozenset()
    staff_at: frozenset = frozenset()
    parent_of: frozenset = frozenset()
    notices: frozenset = field(default=frozenset())


def _p(office=(), teaches=(), parent_of=()) -> Persona:
    staff = {c[0] for c in teaches} | set(office)
    return Persona(
        frozenset(office),
        frozenset(teaches),
        frozenset(staff),
        frozenset(parent_of),
        frozenset(staff | {c[0] for c in parent_of}),
    )


PERSONAS = {
    "anonymous": _p(),
    "parent": _p(parent_of={"A1"}),
    "parent_of_another_family": _p(parent_of={"A2"}),
    "teacher": _p(teaches={"A1"}),
    "teacher_of_another_class": _p(teaches={"A2"}),
    "office": _p(office={"A"}),
    "office_of_another_school": _p(office={"B"}),
    "teacher_here_office_there": _p(teaches={"A1"}, office={"B"}),
}
# What the teacher of a class sees of it; what a parent sees of their own family.
CLASS_KINDS = {"class", "pupil", "topic", "item", "comment", "photo", "award"}
FAMILY_KINDS = CLASS_KINDS | {"parent", "activity", "request", "export", "invitation"}

# Which record each URL converter names (a contribution: its comment and its photo).
CONVERTERS = {
    "pupil_id": ["pupil"],
    "item_id": ["item"],
    "contribution_id": ["comment", "photo"],
    "class_id": ["class"],
    "topic_id": ["topic"],
    "activity_id": ["activity"],
    "request_id": ["request"],
    "export_id": ["export"],
    "breach_id": ["breach"],
    "notice_id": ["notice"],
    "invitation_id": ["invitation"],
    "user_id": ["parent"],
}
LITERALS = {"token": "no-such-token", "name": "email_notifications", "size": "photo"}
SKIP = {"static", "assets.file"}  # files of the site itself, no records


def may_see(persona: Persona, thing: td.Thing) -> bool:
    if thing.school in persona.office_at:
        return True
    if thing.kind in CLASS_KINDS and thing.cls in persona.teaches:
        return True
    if thing.kind == "activity" and thing.school in persona.staff_at:
        return True  # the school's activity library
    if thing.kind in FAMILY_KINDS and thing.cls in persona.parent_of:
        return True
    return thing.kind == "notice" and thing.school in persona.notices


@pytest.fixture()
def world(ctx):
    data = td.two_schools()
    both = f.staff(data.orgs["A"], Role.TEACHER, classes=[data.classes["A1"]], name="Tamsin Twohats")
    td.add_role(both, data.orgs["B"], Role.OFFICE)  # the reproduction: B's office invited them
    data.users = {
        "anonymous": None,
        "parent": data.parents["A1"],
        "parent_of_another_family": data.parents["A2"],
        "teacher": data.teachers["A1"],
        "teacher_of_another_class": data.teachers["A2"],
        "office": data.office["A"],
        "office_of_another_school": data.office["B"],
        "teacher_here_office_there": both,
    }
    return data


def _targets(world, persona: Persona) -> list[dict[str, td.Thing]]:
    """For each school, the first family whose child the persona must not see: its records and
    its school's, by kind (the ids put into the URLs)."""
    chosen = []
    for school in "AB":
        for _, code, *_ in (row for row in td.FAMILIES if row[0] == school):
            mine = [t for t in world.things if t.cls == code]
            pupil = next(t for t in mine if t.kind == "pupil")
            if not may_see(persona, pupil):
                own = [t for t in world.things if t.school == school and t.cls is None]
                chosen.append({t.kind: t for t in own + mine})
                break
    return chosen


def _fill(rule: Rule, target: dict[str, td.Thing]):
    """Each (url, records named in it) for ``rule`` with ``target``'s ids; none if the rule
    takes something this world has no record for."""
    options: list[tuple[dict, list]] = [({}, [])]
    for name in rule.arguments:
        if name == "kind":  # /office/people/<pupils|parents>/<subject_id>
            continue
        if name == "subject_id":
            choices = [({"kind": "pupils"}, target["pupil"]), ({"kind": "parents"}, target["parent"])]
            options = [
                ({**v, **extra, name: t.id}, [*things, t]) for v, things in options for extra, t in choices
            ]
        elif name == "token" and rule.endpoint == "office.roster_result":
            options = [
                ({**v, name: target["roster"].id}, [*things, target["roster"]]) for v, things in options
            ]
        elif name in CONVERTERS:
            options = [
                ({**v, name: target[kind].id}, [*things, target[kind]])
                for v, things in options
                for kind in CONVERTERS[name]
            ]
        elif name in LITERALS:
            options = [({**v, name: LITERALS[name]}, things) for v, things in options]
        else:
            return []
    return [(_build(rule, values), things) for values, things in options]


def _build(rule: Rule, values: dict) -> str:
    from flask import current_app

    adapter = current_app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])


def _form(target: dict[str, td.Thing]) -> dict:
    """One form for every POST: what the forms ask for, naming the target's records."""
    return {
        "rating": "5",
        "comment": "Changed by someone else",
        "kind": "great_effort",
        "note": "Changed",
        "to": "identity_check",
        "months": "1",
        "reason": "Changed",
        "c-field": "first_name",
        "c-value": "Changed",
        "f-kind": "restriction",
        "f-action": "set",
        "e-confirm": "y",
        "channels": "email",
        "when": "now",
        "version": "1",
        "activity_id": str(target["activity"].id),
        "direction": "up",
        "title": "Changed",
        "week_start": next_monday(2).isoformat(),
        "class_ids": str(target["class"].id),
        "show": "1",
        "decision": "not_reported",
        "decision_reason": "Changed",
        "at": "2026-01-05T10:00",
        "what_happened": "Changed",
    }


def _fingerprint() -> list:
    """What a refused POST must leave as it was: the families' records and the schools'."""
    tables = [
        "classes",
        "pupils",
        "guardianships",
        "contributions",
        "awards",
        "engagements",
        "privacy_requests",
        "topics",
        "topic_activities",
        "activities",
        "breaches",
        "invitations",
        "data_exports",
        "staff_memberships",
    ]
    rows = [db.session.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in tables]
    rows.append(
        db.session.execute(
            sa.text(
                "SELECT id, name, email, mobile, status, restricted_at, objected_at FROM users ORDER BY id"
            )
        ).all()
    )
    return rows


def _refused(response, anonymous: bool) -> bool:
    if anonymous:
        return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/auth/signin"
    return response.status_code in (403, 404)


@pytest.mark.promise("P12")
@pytest.mark.parametrize("name", list(PERSONAS))
def test_no_persona_reaches_what_is_not_theirs_through_any_page(app, client, world, name):
    persona, user = PERSONAS[name], world.users[name]
    if user is not None:
        f.login(client, user)
    hidden = [t for t in world.things if not may_see(persona, t)]
    assert hidden, "every persona has something it must not see"
    before = _fingerprint()
    problems, walked = [], 0

    def check(method: str, url: str, response, named: list[td.Thing]):
        body = response.get_data()
        if response.status_code >= 500:
            problems.append(f"{method} {url}: {response.status_code}")
        forbidden = [t for t in named if t in hidden]
        if forbidden and not _refused(response, user is None):
            problems.append(
                f"{method} {url}: {response.status_code} for "
                f"{[(t.kind, t.cls or t.school) for t in forbidden]}"
            )
        for thing in hidden:
            for mark in thing.marks:
                if mark in body:
                    problems.append(
                        f"{method} {url} shows {thing.kind} of {thing.cls or thing.school}: {mark[:40]!r}"
                    )

    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]
    for rule in rules:
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if not rule.arguments:
            if "GET" in methods:  # pages with no id: lists, forms, the persona's own pages
                check("GET", rule.rule, client.get(rule.rule), [])
                walked += 1
            continue
        for target in _targets(world, persona):
            for url, named in _fill(rule, target):
                changes = any(t in hidden for t in named)
                if "GET" in methods:
                    check("GET", url, client.get(url), named)
                    walked += 1
                if "POST" in methods and changes:  # only what they must not change
                    check("POST", url, client.post(url, data=_form(target)), named)
                    walked += 1
    db.session.expire_all()
    assert _fingerprint() == before, "a refused request changed something"
    assert walked > 100
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", ["parent", "teacher", "office", "teacher_here_office_there"])
def test_no_page_fails_for_those_who_may_open_it(app, client, world, name):
    """The same walk with the persona's own records (GET only: nothing is changed): every page
    they may open works, with or without htmx."""
    f.login(client, world.users[name])
    own = [{t.kind: t for t in world.things if t.cls == "A1" or (t.school == "A" and not t.cls)}]
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or "GET" not in rule.methods or not rule.arguments:
            continue
        for url, _ in _fill(rule, own[0]):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                assert response.status_code < 500, url
                walked += 1
    assert walked > 40


# --- the reproduction, as an attacker would walk it -------------------------------------------


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.promise("P12")
def test_a_teacher_here_made_office_there_gets_no_more_here(client, world):
    """School B's office invited a teacher of school A as 'office': B's classes open for them,
    A's other class does not, and nothing of it can be changed."""
    both = world.users["teacher_here_office_there"]
    f.login(client, both)
    a2, b1, b2 = (world.classes[c] for c in ("A2", "B1", "B2"))
    kid_a2 = world.pupils["A2"]
    assert client.get(f"/teach/classes/{a2.id}").status_code == 404
    assert client.get(f"/teach/pupils/{kid_a2.id}").status_code == 404
    comment = next(t for t in world.things if t.kind == "comment" and t.cls == "A2")
    photo = next(t for t in world.things if t.kind == "photo" and t.cls == "A2")
    topic = next(t for t in world.things if t.kind == "topic" and t.cls == "A2")
    assert client.get(f"/teach/contributions/{photo.id}/photo").status_code == 404
    assert client.get(f"/teach/topics/{topic.id}").status_code == 404
    assert client.post(f"/teach/contributions/{comment.id}/hide").status_code == 404
    assert (
        client.post(
            f"/teach/pupils/{kid_a2.id}/awards", data={"kind": "great_effort", "note": "x"}
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert (
        db.session.scalar(sa.select(sa.func.count(Award.id)).where(Award.pupil_id == kid_a2.id)) == 1
    )  # only the teacher's
    assert db.session.get(Contribution, comment.id).hidden_at is None
    # B's classes open: there they are office.
    page = _text(client.get(f"/teach/classes/{b1.id}"))
    assert "Bella Birchall" in page
    assert "Bruno Birchwood" in _text(client.get(f"/teach/classes/{b2.id}"))
    home = _text(client.get("/teach/"))
    for shown in ("Ash Robins", "Birch Owls", "Birch Larks"):
        assert shown in home
    assert "Ash Wrens" not in home
    topics = _text(client.get("/teach/topics"))
    assert "Week of Ash Robins" in topics and "Week of Birch Owls" in topics
    assert "Week of Ash Wrens" not in topics


@pytest.mark.promise("P12")
def test_year_groups_taught_at_the_other_school_open_no_earlier_topics_here(client, world):
    """Last year's topics offered for copying are those of the school the page acts on, for the
    year groups the person has there: B's Year 3 class does not open A's old Year 3 topics."""
    from datetime import timedelta

    from app.models import TopicStatus
    from tests import teaching as t

    ash, birch = world.orgs["A"], world.orgs["B"]
    old = f.school_class(ash, name="Ash Old Kestrels", year_group="3", academic_year=td._year(ash) - 1)
    f.school_class(birch, name="Birch Kites", year_group="3", academic_year=td._year(birch))
    topic = t.topic(
        ash,
        [old],
        title="Ash old Year 3 week",
        status=TopicStatus.PUBLISHED,
        week=t.next_monday(1) - timedelta(weeks=52),
    )
    f.login(client, world.users["teacher_here_office_there"])
    assert "Ash old Year 3 week" not in _text(client.get("/teach/topics"))
    assert client.get(f"/teach/topics/{topic.id}/copy").status_code == 404
    f.login(client, world.users["office"])  # control: A's office, for whom it is A's own
    assert "Ash old Year 3 week" in _text(client.get("/teach/topics"))


@pytest.mark.promise("P12")
def test_office_at_one_school_cannot_act_on_the_other_schools_office_pages(client, world):
    """The office pages act on a school where the person is office: for the teacher-here,
    office-there person that is B, never A, and no id of A's records opens or changes."""
    for who in ("teacher_here_office_there", "office_of_another_school"):
        f.login(client, world.users[who])
        home = _text(client.get("/office/"))  # pupils per class of the school it acts on
        assert "Birch Owls" in home and "Ash Robins" not in home and "Ash Wrens" not in home
        assert "Families at Birch Primary" in _text(client.get("/office/families"))
        people = _text(client.get("/office/people?q=A"))
        assert "Amelia Ashcombe" not in people and "Alfie Ashdown" not in people
        kid = world.pupils["A1"]
        mum = world.parents["A1"]
        request = next(t for t in world.things if t.kind == "request" and t.cls == "A1")
        export = next(t for t in world.things if t.kind == "export" and t.cls == "A1")
        breach = next(t for t in world.things if t.kind == "breach" and t.school == "A")
        for url in (
            f"/office/people/pupils/{kid.id}",
            f"/office/people/parents/{mum.id}",
            f"/office/requests/{request.id}",
            f"/office/exports/{export.id}",
            f"/office/breaches/{breach.id}",
        ):
            assert client.get(url).status_code == 404, (who, url)
        assert client.post(f"/office/pupils/{kid.id}/remove").status_code == 404
        assert (
            client.post(
                f"/office/people/pupils/{kid.id}/correct",
                data={"c-field": "first_name", "c-value": "Changed"},
            ).status_code
            == 404
        )
        assert client.post(f"/office/requests/{request.id}/step", data={"to": "completed"}).status_code == 404
        assert client.post(f"/office/families/{mum.id}/invite").status_code == 404
    db.session.expire_all()
    pupil = db.session.get(Pupil, world.pupils["A1"].id)
    assert pupil.first_name == "Amelia" and pupil.removed_at is None


@pytest.mark.promise("P12")
def test_a_dpo_at_one_school_who_teaches_at_another_is_not_its_dpo(client, world):
    """A DPO role at B used to count at every school the person worked at."""
    both = f.staff(world.orgs["A"], Role.TEACHER, classes=[world.classes["A1"]])
    td.add_role(both, world.orgs["B"], Role.DPO)
    f.login(client, both)
    export = next(t for t in world.things if t.kind == "export" and t.cls == "A1")
    request = next(t for t in world.things if t.kind == "request" and t.cls == "A1")
    assert client.get(f"/office/exports/{export.id}").status_code == 404
    assert client.post(f"/office/exports/{export.id}/release").status_code == 404
    assert (
        client.post(f"/office/requests/{request.id}/extend", data={"months": "1", "reason": "x"}).status_code
        == 404
    )
    own = next(t for t in world.things if t.kind == "export" and t.cls == "B1")
    assert client.get(f"/office/exports/{own.id}").status_code == 200  # B's: theirs


@pytest.mark.promise("P12")
def test_roles_are_held_per_school_and_a_trust_dpo_at_each_school_of_the_trust(world):
    from app.core.authz import can, roles_at, schools_where

    trust = f.trust()
    in_trust = f.school(name="Cedar Primary", trust_id=trust.id)
    also = f.school(name="Dove Primary", trust_id=trust.id)
    dpo = f.staff(None, Role.DPO, trust_id=trust.id)
    td.add_role(dpo, world.orgs["A"], Role.TEACHER)
    assert roles_at(dpo, in_trust.id) == {Role.DPO} == roles_at(dpo, also.id)
    assert roles_at(dpo, world.orgs["A"].id) == {Role.TEACHER}
    assert not can(dpo, "see_school", world.orgs["A"].id)
    assert can(dpo, "see_school", in_trust.id)
    assert schools_where(dpo, "office") == sorted([in_trust.id, also.id])
    both = world.users["teacher_here_office_there"]
    assert can(both, "office", world.orgs["B"].id) and not can(both, "office", world.orgs["A"].id)
    assert can(both, "staff", world.orgs["A"].id)
    assert roles_at(world.parents["A1"], world.orgs["A"].id) == frozenset()


@pytest.mark.promise("P12")
def test_the_matrix_would_see_a_leak_the_marks_are_on_the_pages_of_those_allowed(client, world):
    """The control for the walk above: the identifying texts are what the pages show to those
    who may see them, so their absence elsewhere means something."""
    f.login(client, world.users["office"])
    kid = world.pupils["A1"]
    seen = (
        _text(client.get(f"/teach/classes/{world.classes['A1'].id}"))
        + _text(client.get(f"/teach/pupils/{kid.id}"))
        + _text(client.get(f"/office/people/parents/{world.parents['A1'].id}"))
    )
    request = next(t for t in world.things if t.kind == "request" and t.cls == "A1")
    seen += _text(client.get(f"/office/requests/{request.id}"))
    for kind in ("class", "pupil", "parent", "comment", "request"):
        thing = next(t for t in world.things if t.kind == kind and t.cls == "A1")
        assert thing.marks[0].decode() in seen, kind
    photo = next(t for t in world.things if t.kind == "photo" and t.cls == "A1")
    assert client.get(f"/teach/contributions/{photo.id}/photo").get_data() == photo.marks[0]
    f.login(client, world.users["parent"])
    seen = _text(client.get("/family/")) + _text(client.get(f"/family/children/{kid.id}"))
    for kind in ("award", "topic", "activity"):
        thing = next(t for t in world.things if t.kind == kind and t.cls == "A1")
        assert thing.marks[0].decode() in seen, kind
