"""Small factories for test data: each returns a committed row."""

from __future__ import annotations

import itertools
import time

from app.auth.passwords import hash_password
from app.core.extensions import db
from app.models import (
    Guardianship,
    Organisation,
    Pupil,
    Role,
    SchoolClass,
    StaffMembership,
    Trust,
    User,
    UserKind,
    UserSession,
    UserStatus,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
_HASH = None


def _password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def _save(*rows):
    db.session.add_all(rows)
    db.session.commit()
    return rows[0]


def trust(**kw) -> Trust:
    return _save(Trust(name=kw.pop("name", f"Trust {next(_seq)}"), **kw))


def school(**kw) -> Organisation:
    n = next(_seq)
    kw.setdefault("name", f"School {n}")
    kw.setdefault("dpo_email", f"dpo{n}@school.example")
    kw.setdefault("dpo_name", f"DPO {n}")
    return _save(Organisation(**kw))


def school_class(org: Organisation, **kw) -> SchoolClass:
    kw.setdefault("name", f"Class {next(_seq)}")
    kw.setdefault("year_group", "1")
    kw.setdefault("academic_year", 2026)
    return _save(SchoolClass(organisation_id=org.id, **kw))


def staff(org: Organisation | None, role: Role = Role.TEACHER, *, classes=(), trust_id=None, **kw) -> User:
    n = next(_seq)
    kw.setdefault("email", f"staff{n}@school.example")
    kw.setdefault("name", f"Staff {n}")
    user = User(kind=UserKind.STAFF, password_hash=_password_hash(), **kw)
    user.memberships.append(
        StaffMembership(organisation_id=org.id if org else None, trust_id=trust_id, role=role)
    )
    db.session.add(user)
    for c in classes:
        c.teachers.append(user)
    db.session.commit()
    return user


def parent(**kw) -> User:
    n = next(_seq)
    kw.setdefault("email", f"parent{n}@family.example")
    kw.setdefault("name", f"Parent {n}")
    kw.setdefault("status", UserStatus.ACTIVE)
    return _save(User(kind=UserKind.PARENT, password_hash=_password_hash(), **kw))


def pupil(school_class: SchoolClass, *parents: User, **kw) -> Pupil:
    n = next(_seq)
    kw.setdefault("first_name", f"Child{n}")
    kw.setdefault("last_name", "Test")
    kw.setdefault("upn", f"T{n:012d}")
    row = Pupil(
        organisation_id=school_class.organisation_id,
        class_id=school_class.id,
        year_group=school_class.year_group,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    for p in parents:
        db.session.add(Guardianship(parent_id=p.id, pupil_id=row.id))
    db.session.commit()
    return row


def oak_family() -> dict:
    """Oak Primary with one class, Mum Smith and her child Ada Smith in it (the family the
    privacy request tests ask for): ``org``, ``cls``, ``mum`` and ``child``."""
    org = school(name="Oak Primary")
    cls = school_class(org)
    mum = parent(name="Mum Smith")
    child = pupil(cls, mum, first_name="Ada", last_name="Smith")
    return {"org": org, "cls": cls, "mum": mum, "child": child}


def login(client, user: User, *, fresh: bool = True) -> None:
    """Sign ``user`` in on ``client`` the way Flask-Login would after a real sign-in (with its
    own server-side sign-in record)."""
    secret = f"test-{next(_seq)}-{time.time_ns()}"
    db.session.add(UserSession(user_id=user.id, secret_hash=UserSession.hash(secret)))
    db.session.commit()
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:{user.session_version}:{secret}"
        sess["_fresh"] = True
        sess["auth_at"] = time.time() if fresh else 0
