"""Test data for the family pages: a two-child family with this week's published topics."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

from PIL import Image

from app.learning import topics as topic_service
from app.models import ActivityKind, Role, TopicStatus
from tests import factories as f
from tests import teaching as t


def this_monday(org):
    return topic_service.monday_of(topic_service.school_today(org))


def family(*, same_class: bool = False, awards: bool = True):
    """Oak Primary; Pat (a parent) with Ben (Robins) and Cara (Wrens, or Robins with
    ``same_class``); this week's published topic for each class; a draft and last week's topic; a
    stranger family in another school."""
    from app.core.extensions import db
    from app.models import Award, AwardKind

    org = f.school(name="Oak Primary")
    robins = f.school_class(org, name="Robins")
    wrens = robins if same_class else f.school_class(org, name="Wrens", year_group="3")
    teacher = f.staff(
        org, Role.TEACHER, classes=[robins] if same_class else [robins, wrens], name="Tess Teacher"
    )
    parent = f.parent(name="Pat Parent", email="pat@family.example")
    ben = f.pupil(robins, parent, first_name="Ben", last_name="Oak")
    cara = f.pupil(wrens, parent, first_name="Cara", last_name="Oak")
    monday = this_monday(org)
    count = t.activity(org, "Count the stairs")
    plants = t.video(org)
    game = t.activity(
        org,
        "Maths game",
        ActivityKind.GAME,
        url="https://games.example/maths",
        instructions="Play for ten minutes.",
    )
    leaves = t.activity(org, "Leaf rubbing", instructions="Find three leaves.")
    numbers = t.topic(
        org,
        [robins],
        [count, plants, game],
        week=monday,
        status=TopicStatus.PUBLISHED,
        title="Numbers all around",
        note="Have fun counting at home!",
    )
    nature = (
        numbers
        if same_class
        else t.topic(
            org,
            [wrens],
            [leaves, count],
            week=monday,
            status=TopicStatus.PUBLISHED,
            title="Nature detectives",
            note="Wrap up warm.",
        )
    )
    draft = t.topic(org, [robins], [leaves], week=monday + timedelta(days=7), title="Draft week")
    last_week = t.topic(
        org,
        [robins],
        [leaves],
        week=monday - timedelta(days=7),
        status=TopicStatus.PUBLISHED,
        title="Last week's leaves",
    )
    if awards:
        db.session.add(
            Award(
                pupil_id=ben.id,
                kind=AwardKind.STAR_OF_THE_WEEK,
                given_by_id=teacher.id,
                note="Brilliant counting",
            )
        )
        db.session.commit()
    other_org = f.school(name="Elm Primary")
    other_class = f.school_class(other_org, name="Owls")
    stranger = f.parent(name="Sam Stranger")
    other_child = f.pupil(other_class, stranger, first_name="Olly")
    other_topic = t.topic(
        other_org,
        [other_class],
        [t.activity(other_org, "Elm task")],
        week=this_monday(other_org),
        status=TopicStatus.PUBLISHED,
    )
    return SimpleNamespace(
        org=org,
        robins=robins,
        wrens=wrens,
        teacher=teacher,
        parent=parent,
        ben=ben,
        cara=cara,
        numbers=numbers,
        nature=nature,
        draft=draft,
        last_week=last_week,
        count=count,
        plants=plants,
        game=game,
        leaves=leaves,
        stranger=stranger,
        other_child=other_child,
        other_topic=other_topic,
        monday=monday,
    )


def family_in(client, language: str, **kw):
    """:func:`family`, its carer reading Hometime in ``language`` and signed in on ``client``."""
    from app.core.extensions import db

    fam = family(**kw)
    fam.parent.language = language
    db.session.commit()
    f.login(client, fam.parent)
    return fam


def item_of(topic, activity):
    return next(i for i in topic.items if i.activity_id == activity.id)


GPS_LAT = 51.5007


def jpeg_with_gps(size=(2400, 1800), color=(200, 120, 40)) -> bytes:
    """A JPEG carrying EXIF with a GPS position (Westminster), a camera make and a comment."""
    im = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 2.52)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 29.4)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=exif, comment=b"taken at home")
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        return bool(exif.get_ifd(0x8825)) or bool(exif) or "exif" in im.info
