"""Two schools on one Hometime, for the tenancy matrix (P12): Ash Primary (A) and Birch Primary
(B), each with two classes, and in each class a family with everything a family leaves behind:
a child, a parent, this week's published topic with its own activity, an engagement with a
comment and a photo, an award, a privacy request with an export waiting for review and an
invitation. Each school also has a breach, a privacy notice and a roster import result.

Every record is a ``Thing``: its kind, its school and class, the ids it is reached by, and the
text (or bytes) that identify it on a page. Names and texts are unique, so finding one on a
page means that record was shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from app.core.extensions import db
from app.dataprotection.requests import intake
from app.families import invitations, roster_store
from app.families.roster import Summary
from app.models import (
    Award,
    AwardKind,
    Breach,
    BreachDecision,
    DataExport,
    ExportState,
    PrivacyNotice,
    Role,
    StaffMembership,
    TopicStatus,
    utcnow,
)
from tests import factories as f
from tests import teaching as t
from tests.parents_data import this_monday
from tests.privacy_data import in_progress, photo

# School, class code, class name, child's first and last name, parent's name.
FAMILIES = [
    ("A", "A1", "Ash Robins", "Amelia", "Ashcombe", "Percy Ashcombe"),
    ("A", "A2", "Ash Wrens", "Alfie", "Ashdown", "Petra Ashdown"),
    ("B", "B1", "Birch Owls", "Bella", "Birchall", "Quentin Birchall"),
    ("B", "B2", "Birch Larks", "Bruno", "Birchwood", "Rosa Birchwood"),
]
SCHOOLS = {"A": "Ash Primary", "B": "Birch Primary"}
COLOURS = {"A1": (200, 30, 30), "A2": (30, 200, 30), "B1": (30, 30, 200), "B2": (200, 200, 30)}


@dataclass
class Thing:
    """One record: ``kind``, its ``school`` ("A"/"B"), its class ("A1", ... or None for the
    school's own records), its family's class code (for what a parent may see), the id it is
    reached by, and what identifies it on a page."""

    kind: str
    school: str
    cls: str | None
    id: int | str
    marks: list[bytes] = field(default_factory=list)


def two_schools() -> SimpleNamespace:
    """Both schools, their staff and their families; ``things`` lists every record."""
    orgs = {
        code: f.school(name=name, dpo_email=f"dpo@{name.split()[0].lower()}.example")
        for code, name in SCHOOLS.items()
    }
    things: list[Thing] = []
    classes, pupils, parents, teachers = {}, {}, {}, {}
    office = {s: f.staff(org, Role.OFFICE, name=f"{SCHOOLS[s].split()[0]} Office") for s, org in orgs.items()}
    for school, code, class_name, first, last, parent_name in FAMILIES:
        org = orgs[school]
        cls = classes[code] = f.school_class(org, name=class_name, academic_year=_year(org))
        teachers[code] = f.staff(org, Role.TEACHER, classes=[cls], name=f"Teacher {code}")
        mum = parents[code] = f.parent(name=parent_name, email=f"{last.lower()}@family.example")
        kid = pupils[code] = f.pupil(cls, mum, first_name=first, last_name=last)
        things += _family(org, school, code, cls, mum, kid, teachers[code], office[school])
    for school, org in orgs.items():
        things += _school_records(org, school, office[school])
    return SimpleNamespace(
        orgs=orgs,
        classes=classes,
        pupils=pupils,
        parents=parents,
        teachers=teachers,
        office=office,
        things=things,
    )


def _year(org) -> int:
    from app.learning.topics import academic_year, school_today

    return academic_year(school_today(org))


def _family(org, school, code, cls, mum, kid, teacher, office) -> list[Thing]:
    tag = code.upper()
    task = t.activity(org, f"Stairs task {tag}", instructions=f"Count with care {tag}.")
    leaves = t.activity(org, f"Leaf task {tag}")
    topic = t.topic(
        org,
        [cls],
        [task, leaves],
        week=this_monday(org),
        status=TopicStatus.PUBLISHED,
        title=f"Week of {cls.name}",
        note=f"Topic note {tag}",
    )
    item, second = topic.items
    comment = t.done(kid, item, rating=4, by=mum, comment=f"Family comment {tag} at the park")
    snap, data = photo(kid, second, mum, COLOURS[code])
    award = Award(
        pupil_id=kid.id, kind=AwardKind.GREAT_EFFORT, given_by_id=teacher.id, note=f"Award note {tag}"
    )
    db.session.add(award)
    db.session.commit()
    request = intake.request_as_parent(mum, kind="access", pupil_id=kid.id, details=f"Request details {tag}")
    in_progress(request.id, office)
    export = DataExport(
        request_id=request.id,
        state=ExportState.REVIEW,
        flagged=[{"id": "c1", "table": "contributions", "row": snap.id}],
    )
    invitation = invitations.create(org.id, mum, channels="letter", created_by_id=office.id)
    db.session.add(export)
    db.session.commit()
    name = f"{kid.first_name} {kid.last_name}".encode()
    return [
        Thing("class", school, code, cls.id, [cls.name.encode()]),
        Thing("pupil", school, code, kid.id, [name, kid.upn.encode()]),
        Thing("parent", school, code, mum.id, [mum.name.encode(), mum.email.encode()]),
        Thing("topic", school, code, topic.id, [topic.title.encode(), topic.note.encode()]),
        Thing("item", school, code, item.id, []),
        Thing("activity", school, code, task.id, [task.title.encode()]),
        Thing("comment", school, code, comment.id, [comment.body.encode()]),
        Thing("photo", school, code, snap.id, [data]),
        Thing("award", school, code, award.id, [award.note.encode()]),
        Thing("request", school, code, request.id, [request.details.encode()]),
        Thing("export", school, code, export.id, []),
        Thing("invitation", school, code, invitation.id, []),
    ]


def _school_records(org, school, office) -> list[Thing]:
    breach = Breach(
        organisation_id=org.id,
        title=f"Lost laptop at {org.name}",
        aware_at=utcnow() - timedelta(hours=2),
        decision=BreachDecision.PENDING,
        what_happened=f"Breach story {school}",
        created_by_id=office.id,
    )
    notice = PrivacyNotice(
        organisation_id=org.id,
        version="2.0",
        major=True,
        summary=f"Notice summary {school}",
        body="Full text.",
        published_at=utcnow() - timedelta(days=1),
    )
    db.session.add_all([breach, notice])
    db.session.commit()
    token = roster_store.save_result(asdict(Summary()), [], org.id, office.id)
    return [
        Thing("breach", school, None, breach.id, [breach.title.encode(), breach.what_happened.encode()]),
        Thing("notice", school, None, notice.id, []),
        Thing("roster", school, None, token, []),
    ]


def add_role(user, org, role: Role) -> None:
    """Give ``user`` a second membership: ``role`` at ``org``."""
    db.session.add(StaffMembership(user_id=user.id, organisation_id=org.id, role=role))
    db.session.commit()
