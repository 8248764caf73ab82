"""Seeding shared by benchmark modules (not a benchmark itself: ``python -m bench`` only runs
``bench_*.py``)."""

from __future__ import annotations

import sqlalchemy as sa


def seed_families(db, pupils: int, *, status, year_group: str) -> tuple[int, list[tuple[int, list[int]]]]:
    """One school, one class and ``pupils`` children with two carers each, in bulk; committed.

    Carers are ``Carer 0`` … (``carer0@bench.example`` …) with the given ``UserStatus`` and email
    notifications on; carers ``2i`` and ``2i+1`` look after ``Child{i}``. Returns the school's id
    and, per child, ``(pupil_id, [carer_id, carer_id])``.
    """
    from app.models import Guardianship, Organisation, Pupil, SchoolClass, User, UserKind, utcnow

    org = Organisation(name="Bench Primary", dpo_email="dpo@bench.example")
    db.session.add(org)
    db.session.flush()
    cls = SchoolClass(
        organisation_id=org.id, name=f"Year {year_group}", year_group=year_group, academic_year=2026
    )
    db.session.add(cls)
    db.session.flush()
    now = utcnow()
    carers = list(
        db.session.scalars(
            sa.insert(User).returning(User.id),
            [
                {
                    "kind": UserKind.PARENT,
                    "name": f"Carer {i}",
                    "email": f"carer{i}@bench.example",
                    "status": status,
                    "session_version": 1,
                    "email_notifications": True,
                    "sms_notifications": False,
                    "weekly_digest": False,
                    "created_at": now,
                }
                for i in range(pupils * 2)
            ],
        )
    )
    children = list(
        db.session.scalars(
            sa.insert(Pupil).returning(Pupil.id),
            [
                {
                    "organisation_id": org.id,
                    "class_id": cls.id,
                    "first_name": f"Child{i}",
                    "last_name": "Bench",
                    "year_group": year_group,
                    "created_at": now,
                }
                for i in range(pupils)
            ],
        )
    )
    families = [(pupil, [carers[2 * i], carers[2 * i + 1]]) for i, pupil in enumerate(children)]
    db.session.execute(
        sa.insert(Guardianship),
        [
            {"parent_id": carer, "pupil_id": pupil, "created_at": now}
            for pupil, pair in families
            for carer in pair
        ],
    )
    db.session.commit()
    return org.id, families
