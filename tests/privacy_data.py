"""Test data for exports and erasure: two families in one class, with comments and photos, and a
family at another school (each row committed)."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

from PIL import Image

from app.core import consent, storage
from app.core.extensions import db
from app.dataprotection.requests import intake
from app.dataprotection.requests import workflow as pr
from app.models import (
    Award,
    AwardKind,
    ConsentMethod,
    ConsentPurpose,
    Guardianship,
    Role,
    TopicStatus,
    UsageEvent,
    UsageKind,
)
from tests import factories as f
from tests import teaching as t


def jpeg(colour=(200, 80, 40), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def photo(pupil, item, by, colour, **kw):
    """A photo sent by ``by`` about ``pupil`` for a topic item, stored encrypted."""
    data = jpeg(colour)
    made = t.done(
        pupil,
        item,
        rating=kw.pop("rating", 4),
        by=by,
        photo_key=storage.put(data, prefix="photo"),
        thumb_key=storage.put(jpeg(colour, (16, 12)), prefix="thumb"),
    )
    for key, value in kw.items():
        setattr(made, key, value)
    db.session.commit()
    return made, data


def two_families():
    """Oak Primary, class Robins: the Khans (Aisha, parent of Amir and of Bea in Wrens) and the
    Moores (Mo, parent of Zara in Robins); Elm Primary, where Aisha also has Cal."""
    org = f.school(name="Oak Primary", dpo_email="dpo@oak.example")
    robins = f.school_class(org, name="Robins")
    wrens = f.school_class(org, name="Wrens", year_group="3")
    office = f.staff(org, Role.OFFICE, name="Olive Office")
    teacher = f.staff(org, Role.TEACHER, classes=[robins], name="Tess Teacher")
    aisha = f.parent(name="Aisha Khan", email="aisha@family.example", mobile="+447700900111")
    mo = f.parent(name="Mo Moore", email="mo@family.example")
    amir = f.pupil(robins, aisha, first_name="Amir", last_name="Khan", upn="M801200005000")
    bea = f.pupil(wrens, aisha, first_name="Bea", last_name="Khan")
    zara = f.pupil(robins, mo, first_name="Zara", last_name="Moore")
    f.pupil(robins, first_name="Will", last_name="Nobody")  # a classmate with no parent here
    count, leaves, game = (
        t.activity(org, "Count the stairs"),
        t.activity(org, "Leaf rubbing"),
        t.activity(org, "Shape hunt"),
    )
    monday = t.next_monday(-1)
    topic = t.topic(
        org,
        [robins, wrens],
        [count, leaves, game],
        week=monday,
        status=TopicStatus.PUBLISHED,
        title="Numbers all around",
    )
    first, second, third = topic.items
    amir_comment = t.done(
        amir, first, rating=5, by=aisha, comment="Amir counted 14 stairs with Zara at the park!"
    )
    bea_comment = t.done(bea, first, rating=3, by=aisha, comment="Bea loved the counting.")
    amir_photo, amir_bytes = photo(amir, second, aisha, (10, 200, 10))
    group_photo, group_bytes = photo(amir, third, aisha, (10, 10, 200), shows_other_children=True)
    zara_comment = t.done(zara, first, rating=2, by=mo, comment="Zara MOORE-SECRET comment")
    zara_photo, zara_bytes = photo(zara, second, mo, (250, 250, 0))
    db.session.add(
        Award(pupil_id=amir.id, kind=AwardKind.GREAT_EFFORT, given_by_id=teacher.id, note="Lovely teamwork")
    )
    db.session.add(
        Award(
            pupil_id=zara.id,
            kind=AwardKind.KIND_HELPER,
            given_by_id=teacher.id,
            note="Zara's award MOORE-SECRET",
        )
    )
    db.session.add_all(
        [
            UsageEvent(user_id=aisha.id, pupil_id=amir.id, kind=UsageKind.ACTIVITY_OPENED),
            UsageEvent(user_id=mo.id, pupil_id=zara.id, kind=UsageKind.SESSION),
        ]
    )
    for who in (aisha, mo):
        consent.record(
            who.id,
            ConsentPurpose.SERVICE,
            True,
            method=ConsentMethod.INVITATION,
            organisation_id=org.id,
            on_behalf_of="themselves and their child",
        )
    consent.record(
        aisha.id,
        ConsentPurpose.CONTRIBUTION_PROMO,
        True,
        method=ConsentMethod.WEB_FORM,
        organisation_id=org.id,
        pupil_id=amir.id,
        contribution_id=amir_photo.id,
    )
    db.session.commit()

    elm = f.school(name="Elm Primary", dpo_email="dpo@elm.example")
    owls = f.school_class(elm, name="Owls")
    elm_office = f.staff(elm, Role.OFFICE, name="Elm Office")
    cal = f.pupil(owls, aisha, first_name="Cal", last_name="Khan")
    elm_topic = t.topic(elm, [owls], [t.activity(elm, "Elm task")], week=monday, status=TopicStatus.PUBLISHED)
    cal_comment = t.done(cal, elm_topic.items[0], rating=4, by=aisha, comment="Cal at Elm ELM-ONLY comment")
    return SimpleNamespace(**locals())


def in_progress(request_id: int, office) -> None:
    """Move a request past the identity check, as the office does."""
    pr.transition(request_id, "identity_check", actor=office)
    pr.transition(request_id, "in_progress", actor=office)


def access_request(s, *, pupil=None, kind="access"):
    """A parent's request for their child's data (or their own), put in progress."""
    parent = s.aisha if pupil is None or pupil.id != s.zara.id else s.mo
    req = intake.request_as_parent(
        parent, kind=kind, pupil_id=getattr(pupil, "id", None), organisation_id=s.org.id
    )
    in_progress(req.id, s.office)
    return req


def days(n: int) -> timedelta:
    return timedelta(days=n)


def links(pupil_id: int) -> int:
    from sqlalchemy import func, select

    return db.session.scalar(
        select(func.count()).select_from(Guardianship).where(Guardianship.pupil_id == pupil_id)
    )
