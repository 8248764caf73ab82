"""The demo school: two classes, 24 pupils, a teacher, an office member and parents, and a week
of use: this week's topic published for each class, the demo parent's ratings, comments and a
photo, and an award, so a first visit looks like a school a few weeks in."""

from __future__ import annotations

import io

import sqlalchemy as sa

from app.auth.passwords import hash_password
from app.core.extensions import db
from app.families.roster import academic_year  # noqa: F401  (also app.demo.academic_year, as before)
from app.families.roster_csv import with_check_letter
from app.models import (
    Guardianship,
    Organisation,
    PrivacyNotice,
    Pupil,
    Role,
    SchoolClass,
    StaffMembership,
    Trust,
    User,
    UserKind,
    UserStatus,
    utcnow,
)

PASSWORD = "hometime-demo"
SCHOOL = "Hometime Demo Primary"
FIRST = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Finn",
    "Grace",
    "Hassan",
    "Isla",
    "Jack",
    "Keira",
    "Leo",
    "Maya",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Ruby",
    "Sam",
    "Tia",
    "Umar",
    "Violet",
    "Will",
    "Zara",
]
LAST = [
    "Okafor",
    "Smith",
    "Nowak",
    "Patel",
    "Jones",
    "Murphy",
    "Brown",
    "Ali",
    "Campbell",
    "Evans",
    "Hughes",
    "Khan",
    "Lewis",
    "Wright",
    "Taylor",
    "Shah",
    "Walker",
    "Green",
    "Hall",
    "Wood",
    "Hussain",
    "Clarke",
    "Turner",
    "Ahmed",
]


def seed() -> bool:
    """Create the demo school unless it exists; return whether it was created."""
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == SCHOOL)):
        return False
    password = hash_password(PASSWORD)
    trust = Trust(name="Demo Learning Trust", dpo_email="dpo@example.org")
    school = Organisation(
        trust=trust, name=SCHOOL, dpo_name="Dana Price (Data Protection Officer)", dpo_email="dpo@example.org"
    )
    db.session.add_all([trust, school])
    db.session.flush()
    db.session.add(
        PrivacyNotice(
            organisation_id=None,
            version="1.0",
            major=False,
            published_at=utcnow(),
            summary="We keep only what your child's school needs to share home learning with you. "
            "We never sell your data or show adverts.",
            body="Hometime helps your child's school share weekly home-learning activities with you.",
        )
    )

    def staff(email: str, name: str, role: Role) -> User:
        user = User(kind=UserKind.STAFF, name=name, email=email, password_hash=password)
        user.memberships.append(StaffMembership(organisation_id=school.id, role=role))
        db.session.add(user)
        return user

    teacher = staff("teacher@example.org", "Tom Teacher", Role.TEACHER)
    staff("office@example.org", "Olu Office", Role.OFFICE)
    year = academic_year()
    classes = [
        SchoolClass(
            organisation_id=school.id, name=name, year_group=group, academic_year=year, teachers=[teacher]
        )
        for name, group in (("Year 1", "1"), ("Year 3", "3"))
    ]
    db.session.add_all(classes)
    db.session.flush()
    parent = User(
        kind=UserKind.PARENT,
        name="Pat Parent",
        email="parent@example.org",
        mobile="+447700900001",
        password_hash=password,
        status=UserStatus.ACTIVE,
    )
    db.session.add(parent)
    for i in range(24):
        school_class = classes[i % 2]
        pupil = Pupil(
            organisation_id=school.id,
            class_id=school_class.id,
            year_group=school_class.year_group,
            first_name=FIRST[i],
            last_name=LAST[i],
            upn=with_check_letter(f"{820000000000 + i}"),
            pupil_premium=(i % 5 == 0),
        )
        db.session.add(pupil)
        db.session.flush()
        if i < 2:
            carer = parent
        else:
            carer = User(
                kind=UserKind.PARENT,
                name=f"Carer of {FIRST[i]}",
                email=f"carer{i}@example.org",
                status=UserStatus.INVITED,
            )
            db.session.add(carer)
            db.session.flush()
        db.session.add(Guardianship(parent_id=carer.id, pupil_id=pupil.id))
    db.session.commit()
    from app.learning.starter_library import seed_starter_library

    seed_starter_library(school.id)
    seed_this_week(school, teacher, parent)
    return True


# This week's topic for each class: (class name, title, note, starter activities in order).
THIS_WEEK = [
    (
        "Year 1",
        "Growing and floating",
        "This week we are finding out how things grow and why some things float.",
        ["Plant a bean in a jar", "Sink or float?", "Number bonds to 10 with pasta"],
    ),
    (
        "Year 3",
        "Measuring our world",
        "Measuring shadows, practising tables and reading aloud.",
        ["Shadow measuring", "Times-table snap", "Read aloud to someone"],
    ),
]


def demo_photo() -> bytes:
    """A small generated picture (a bean sprouting in a jar), sent through the photo pipeline."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (480, 360), (214, 234, 248))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 280, 480, 360), fill=(181, 136, 99))  # the table
    draw.rounded_rectangle(
        (170, 120, 310, 300), radius=18, outline=(90, 120, 140), width=6, fill=(235, 245, 250)
    )  # the jar
    draw.ellipse((215, 235, 265, 270), fill=(120, 80, 40))  # the bean
    draw.line((240, 240, 240, 150), fill=(60, 150, 60), width=8)  # the shoot
    draw.ellipse((240, 140, 290, 170), fill=(80, 180, 80))
    draw.ellipse((190, 150, 240, 180), fill=(80, 180, 80))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def seed_this_week(school: Organisation, teacher: User, parent: User) -> None:
    """This week's topic published for each class (families are told, as for any topic), the
    demo parent's ratings, comments and a photo, and an award from the teacher; each step
    through the service a real user's action goes through."""
    from app.learning import classroom, engagement, topics
    from app.models import Activity, AwardKind

    week = topics.monday_of(topics.school_today(school))
    classes = {
        c.name: c
        for c in db.session.scalars(sa.select(SchoolClass).where(SchoolClass.organisation_id == school.id))
    }
    library = {
        a.title: a
        for a in db.session.scalars(sa.select(Activity).where(Activity.organisation_id == school.id))
    }
    published = {}
    for class_name, title, note, activity_titles in THIS_WEEK:
        topic = topics.create_topic(teacher, [classes[class_name]], week, title, note)
        for activity_title in activity_titles:
            topics.add_activity(topic, topic.version, library[activity_title])
        topics.publish_now(topic, topic.version)
        published[class_name] = sorted(topic.items, key=lambda i: i.position)
    children = {
        class_name: c
        for c, class_name in db.session.execute(
            sa.select(Pupil, SchoolClass.name)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.parent_id == parent.id)
        )
    }
    year1, year3 = children["Year 1"], children["Year 3"]
    bean, floating, _ = published["Year 1"]
    engagement.rate(year1, bean, parent, 5)
    engagement.rate(year1, floating, parent, 4)
    engagement.send(
        year1,
        bean,
        parent,
        photo=io.BytesIO(demo_photo()),
        comment=f"{year1.first_name} checks the bean every morning. The first shoot came out on day three!",
    )
    shadows, tables, _ = published["Year 3"]
    engagement.rate(year3, shadows, parent, 3)
    engagement.send(
        year3, tables, parent, comment="We played snap after tea. Tricky with the 7s but lots of laughing."
    )
    classroom.give_award(
        year1, AwardKind.STAR_OF_THE_WEEK, teacher, note="For looking after the class bean plant."
    )
