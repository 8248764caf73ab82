"""The demo school: two classes, 24 pupils, a teacher, an office member and parents."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.models import (Guardianship, Organisation, PrivacyNotice, Pupil, Role, SchoolClass,
                        StaffMembership, Trust, User, UserKind, UserStatus, utcnow)
from app.services.passwords import hash_password

PASSWORD = "hometime-demo"
SCHOOL = "Hometime Demo Primary"
FIRST = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hassan", "Isla", "Jack", "Keira",
         "Leo", "Maya", "Noah", "Olivia", "Priya", "Quinn", "Ruby", "Sam", "Tia", "Umar", "Violet",
         "Will", "Zara"]
LAST = ["Okafor", "Smith", "Nowak", "Patel", "Jones", "Murphy", "Brown", "Ali", "Campbell", "Evans",
        "Hughes", "Khan", "Lewis", "Wright", "Taylor", "Shah", "Walker", "Green", "Hall", "Wood",
        "Hussain", "Clarke", "Turner", "Ahmed"]


def academic_year(today: date | None = None) -> int:
    today = today or date.today()
    return today.year if today.month >= 9 else today.year - 1


def seed() -> bool:
    """Create the demo school unless it exists; return whether it was created."""
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == SCHOOL)):
        return False
    password = hash_password(PASSWORD)
    trust = Trust(name="Demo Learning Trust", dpo_email="dpo@example.org")
    school = Organisation(trust=trust, name=SCHOOL, dpo_name="Dana Price (Data Protection Officer)",
                          dpo_email="dpo@example.org")
    db.session.add_all([trust, school])
    db.session.flush()
    db.session.add(PrivacyNotice(
        organisation_id=None, version="1.0", major=False, published_at=utcnow(),
        summary="We keep only what your child's school needs to share home learning with you. "
                "We never sell your data or show adverts.",
        body="Hometime helps your child's school share weekly home-learning activities with you."))

    def staff(email: str, name: str, role: Role) -> User:
        user = User(kind=UserKind.STAFF, name=name, email=email, password_hash=password)
        user.memberships.append(StaffMembership(organisation_id=school.id, role=role))
        db.session.add(user)
        return user

    teacher = staff("teacher@example.org", "Tom Teacher", Role.TEACHER)
    staff("office@example.org", "Olu Office", Role.OFFICE)
    year = academic_year()
    classes = [SchoolClass(organisation_id=school.id, name=name, year_group=group,
                           academic_year=year, teachers=[teacher])
               for name, group in (("Year 1", "1"), ("Year 3", "3"))]
    db.session.add_all(classes)
    db.session.flush()
    parent = User(kind=UserKind.PARENT, name="Pat Parent", email="parent@example.org",
                  mobile="+447700900001", password_hash=password, status=UserStatus.ACTIVE)
    db.session.add(parent)
    for i in range(24):
        school_class = classes[i % 2]
        pupil = Pupil(organisation_id=school.id, class_id=school_class.id,
                      year_group=school_class.year_group, first_name=FIRST[i], last_name=LAST[i],
                      upn=f"A{820000000000 + i}", pupil_premium=(i % 5 == 0))
        db.session.add(pupil)
        db.session.flush()
        if i < 2:
            carer = parent
        else:
            carer = User(kind=UserKind.PARENT, name=f"Carer of {FIRST[i]}",
                         email=f"carer{i}@example.org", status=UserStatus.INVITED)
            db.session.add(carer)
            db.session.flush()
        db.session.add(Guardianship(parent_id=carer.id, pupil_id=pupil.id))
    db.session.commit()
    from app.starter_library import seed_starter_library; seed_starter_library(school.id)  # noqa: E702
    return True
