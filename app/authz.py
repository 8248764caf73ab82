"""Authorisation in one place (P12).

Every view declares who may use it with one of the decorators below; a test walks the URL map and
fails when a view has none.  The ``*_or_404`` helpers scope records: another school's, another
class's or another family's record answers 404, exactly as a record that does not exist.
"""
from __future__ import annotations

import time
from functools import wraps

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

from app.extensions import db, login
from app.models import (ConsentPurpose, ConsentRecord, Guardianship, Organisation, Pupil, Role,
                        SchoolClass, StaffMembership, User, UserKind, UserSession,
                        class_teachers)

STAFF_ROLES = {r.value for r in Role}
COOKIE_PURPOSES = (ConsentPurpose.COOKIES_PERFORMANCE, ConsentPurpose.COOKIES_FUNCTIONAL)


def init_app(app) -> None:
    login.login_view = "auth.signin"
    login.login_message = "Please sign in to see that page."
    login.login_message_category = "info"
    login.session_protection = "basic"


@login.user_loader
def _load_user(identity: str) -> User | None:
    """The signed-in person, with what every page's layout needs, in one query: their staff
    memberships (and those schools), for scope and the nav, and their latest cookie consents,
    for the cookie banner. Kept in ``g``: for this request only, so a change shows on the next.

    The id is "user id:session version:sign-in secret"; only a sign-in that has not ended (signed
    out here, or everywhere) is accepted, checked by the same query."""
    try:
        raw_id, raw_version, secret = identity.split(":")
        user_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    if not secret or not (0 < user_id < 2 ** 31):
        return None
    m, live = StaffMembership, UserSession
    rows = db.session.execute(
        sa.select(User, live.last_seen_at, m.organisation_id, m.trust_id, m.role, Organisation,
                  *(_latest_consent(p) for p in COOKIE_PURPOSES))
        .join(live, sa.and_(live.user_id == User.id, live.secret_hash == UserSession.hash(secret),
                            live.ended_at.is_(None)))
        .outerjoin(m, m.user_id == User.id)
        .outerjoin(Organisation, Organisation.id == m.organisation_id)
        .where(User.id == user_id)).all()
    user = rows[0][0] if rows else None
    if user is None or user.session_version != version or not user.is_active:
        return None
    user.session_secret = secret
    g._sign_in_seen = rows[0][1]
    g._memberships = (user.id, [(org, trust, role) for _, _, org, trust, role, *_ in rows if role])
    g._member_orgs = {row[5].id: row[5] for row in rows if row[5] is not None}  # for the request
    from app.cookies import prime

    prime(dict(zip(COOKIE_PURPOSES, rows[0][6:])))
    return user


def _latest_consent(purpose: ConsentPurpose):
    """The person's latest decision for ``purpose`` (None: never decided), as a column."""
    return (sa.select(ConsentRecord.granted)
            .where(ConsentRecord.user_id == User.id, ConsentRecord.purpose == purpose)
            .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
            .limit(1).correlate(User).scalar_subquery())


def _loaded_memberships(user: User) -> list[tuple[int | None, int | None, Role]] | None:
    """(organisation_id, trust_id, role) of each of ``user``'s memberships, when the user loader
    read them with the signed-in user in this request; None otherwise (then ask the database)."""
    stash = g.get("_memberships")
    return stash[1] if stash is not None and stash[0] == user.id else None


def _mark(view, rule: str):
    view._access = rule  # read by tests/test_routes.py
    return view


def public(view):
    """Anyone, signed in or not."""
    return _mark(view, "public")


def signed_in(view):
    """Any signed-in person."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login.unauthorized()
        return view(*args, **kwargs)
    return _mark(wrapper, "signed_in")


def parent_required(view):
    """A signed-in parent or carer."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login.unauthorized()
        if current_user.kind is not UserKind.PARENT:
            abort(403)
        return view(*args, **kwargs)
    return _mark(wrapper, "parent")


def staff_required(*roles: str):
    """A signed-in member of staff with one of ``roles`` (any staff role when none given)."""
    wanted = set(roles) or STAFF_ROLES

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login.unauthorized()
            if current_user.kind is not UserKind.STAFF or not (staff_roles(current_user) & wanted):
                abort(403)
            g.hometime_org_id = _organisation_for_roles(current_user, wanted)
            if (current_app.config["REQUIRE_STAFF_MFA"] and not current_user.mfa_enabled_at
                    and request.endpoint not in ("auth.mfa_enrol",)):
                return redirect(url_for("auth.mfa_enrol"))
            return view(*args, **kwargs)
        return _mark(wrapper, "staff:" + ",".join(sorted(wanted)))
    return decorate


def fresh_signin_required(view):
    """Signed in within the last FRESH_SIGNIN_MINUTES (privacy requests, downloads)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login.unauthorized()
        limit = current_app.config["FRESH_SIGNIN_MINUTES"] * 60
        if time.time() - session.get("auth_at", 0) > limit:
            return redirect(url_for("auth.reauth", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    view_access = getattr(view, "_access", "signed_in")
    return _mark(wrapper, view_access + "+fresh")


def mark_fresh_signin() -> None:
    session["auth_at"] = time.time()


# --- scope -------------------------------------------------------------------------------------

def staff_roles(user: User) -> set[str]:
    loaded = _loaded_memberships(user)
    if loaded is not None:
        return {role.value for _, _, role in loaded}
    cached = g.get("_staff_roles")
    if cached is None or cached[0] != user.id:
        roles = set(db.session.scalars(
            sa.select(StaffMembership.role).where(StaffMembership.user_id == user.id)))
        cached = (user.id, {r.value for r in roles})
        g._staff_roles = cached
    return cached[1]


def staff_organisation_ids(user: User) -> list[int]:
    """Schools a member of staff may see: their own, or every school of their trust for a trust DPO.
    Worked out once per request."""
    cached = g.get("_staff_orgs")
    if cached is not None and cached[0] == user.id:
        return cached[1]
    result = _staff_organisation_ids(user)
    g._staff_orgs = (user.id, result)
    return result


def _staff_organisation_ids(user: User) -> list[int]:
    loaded = _loaded_memberships(user)
    rows = [(org, trust) for org, trust, _ in loaded] if loaded is not None else db.session.execute(
        sa.select(StaffMembership.organisation_id, StaffMembership.trust_id)
        .where(StaffMembership.user_id == user.id)).all()
    org_ids = {org for org, _ in rows if org}
    trust_ids = [trust for _, trust in rows if trust]
    if trust_ids:
        org_ids |= set(db.session.scalars(
            sa.select(Organisation.id).where(Organisation.trust_id.in_(trust_ids))))
    return sorted(org_ids)


def _organisation_for_roles(user: User, roles: set[str]) -> int | None:
    """The first school where ``user`` holds one of ``roles`` (a trust DPO: the trust's first)."""
    loaded = _loaded_memberships(user)
    if loaded is not None:  # in the database's order: organisation id, trust memberships last
        rows = sorted(((org, trust) for org, trust, role in loaded if role.value in roles),
                      key=lambda row: (row[0] is None, row[0] or 0))
    else:
        rows = db.session.execute(
            sa.select(StaffMembership.organisation_id, StaffMembership.trust_id)
            .where(StaffMembership.user_id == user.id,
                   StaffMembership.role.in_([Role(r) for r in roles]))
            .order_by(StaffMembership.organisation_id)).all()
    for org_id, trust_id in rows:
        if org_id:
            return org_id
        first = db.session.scalar(sa.select(Organisation.id).where(Organisation.trust_id == trust_id)
                                  .order_by(Organisation.id).limit(1))
        if first:
            return first
    return None


def office_organisation_ids(user: User) -> list[int]:
    """Schools whose office side a person runs: where they are office staff or DPO, and every
    school of a trust they are DPO of. (A teacher's schools are not included.) Once per request."""
    cached = g.get("_office_orgs")
    if cached is not None and cached[0] == user.id:
        return cached[1]
    loaded = _loaded_memberships(user)
    if loaded is not None and not any(trust for _, trust, _ in loaded):
        result = sorted({org for org, _, role in loaded if role in (Role.OFFICE, Role.DPO) and org})
        g._office_orgs = (user.id, result)
        return result
    m = StaffMembership
    own = sa.select(m.organisation_id).where(m.user_id == user.id,
                                             m.role.in_([Role.OFFICE, Role.DPO]),
                                             m.organisation_id.is_not(None))
    trusts = sa.select(m.trust_id).where(m.user_id == user.id, m.trust_id.is_not(None))
    result = list(db.session.scalars(sa.select(Organisation.id).where(sa.or_(
        Organisation.id.in_(own), Organisation.trust_id.in_(trusts))).order_by(Organisation.id)))
    g._office_orgs = (user.id, result)
    return result


def current_organisation() -> Organisation | None:
    """The school a member of staff is working in: the one where they hold the role the page
    asked for (so a teacher at one school who is office at another acts as office only there)."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return None
    org_id = g.get("hometime_org_id")
    if org_id is None:
        ids = staff_organisation_ids(current_user)
        org_id = ids[0] if ids else None
    if not org_id:
        return None
    held = g.setdefault("_member_orgs", {})  # a strong reference: the session's map is weak
    if org_id not in held:
        held[org_id] = db.session.get(Organisation, org_id)
    return held[org_id]


def is_office(user: User, organisation_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StaffMembership).where(
        StaffMembership.user_id == user.id, StaffMembership.organisation_id == organisation_id,
        StaffMembership.role.in_([Role.OFFICE, Role.DPO]))) > 0 or bool(
        {"dpo"} & staff_roles(user) and organisation_id in staff_organisation_ids(user))


def visible_classes(user: User):
    """A select of the classes a member of staff may see: office/DPO all of their schools',
    a teacher only the classes they teach."""
    orgs = staff_organisation_ids(user)
    query = sa.select(SchoolClass).where(SchoolClass.organisation_id.in_(orgs))
    if not {"office", "dpo"} & staff_roles(user):
        query = query.join(class_teachers, class_teachers.c.class_id == SchoolClass.id).where(
            class_teachers.c.user_id == user.id)
    return query


def class_for_staff_or_404(class_id: int) -> SchoolClass:
    found = db.session.scalar(visible_classes(current_user).where(SchoolClass.id == class_id))
    if found is None:
        abort(404)
    return found


def pupil_for_staff_or_404(pupil_id: int) -> Pupil:
    user = current_user
    query = sa.select(Pupil).where(Pupil.id == pupil_id,
                                   Pupil.organisation_id.in_(staff_organisation_ids(user)))
    if not {"office", "dpo"} & staff_roles(user):
        query = query.join(class_teachers, class_teachers.c.class_id == Pupil.class_id).where(
            class_teachers.c.user_id == user.id)
    found = db.session.scalar(query)
    if found is None:
        abort(404)
    return found


def linked_pupils(user: User):
    """A select of the children linked to a parent (including those the school has removed: P18)."""
    return (sa.select(Pupil).join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.parent_id == user.id, Guardianship.removed_at.is_(None),
                   Pupil.erased_at.is_(None))
            .order_by(Pupil.first_name, Pupil.id))


def pupil_for_parent_or_404(pupil_id: int) -> Pupil:
    found = db.session.scalar(linked_pupils(current_user).where(Pupil.id == pupil_id))
    if found is None:
        abort(404)
    return found
