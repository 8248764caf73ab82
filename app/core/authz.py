"""Authorisation in one place (P12). The tenancy model is described in docs/security.md.

Every view declares who may use it with one of the decorators below; a test walks the URL map and
fails when a view has none.  The ``*_or_404`` helpers scope records: another school's, another
class's or another family's record answers 404, exactly as a record that does not exist.

Staff roles are held per school and asked per school (``roles_at``, ``can``): a role held at one
school never widens what the same person may see or do at another.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

from app.core.contexts import current_request, from_g, session_identifier, signed_in_user
from app.core.direct_reads import DirectRead, loaded
from app.core.extensions import db, login
from app.models import (
    ConsentPurpose,
    ConsentRecord,
    Guardianship,
    Organisation,
    Pupil,
    Role,
    SchoolClass,
    StaffMembership,
    User,
    UserKind,
    UserSession,
    UserStatus,
    bound_list,
    class_teachers,
)

COOKIE_PURPOSES = (ConsentPurpose.COOKIES_PERFORMANCE, ConsentPurpose.COOKIES_FUNCTIONAL)


def init_app(app) -> None:
    login.login_view = "auth.signin"
    login.login_message = "Please sign in to see that page."
    login.login_message_category = "info"
    login.session_protection = "basic"
    login._session_identifier_generator = session_identifier  # Flask-Login's, read once (contexts)


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
    if not secret or not (0 < user_id < 2**31):
        return None
    names = tuple(name for name, (wanted, _) in _LAYOUT_COLUMNS.items() if wanted())
    staff = current_request().blueprint not in FAMILY_BLUEPRINTS
    rows = _loader_read(names, staff).run({"user_id": user_id, "secret_hash": UserSession.hash(secret)})
    user = rows[0][0] if rows else None
    if user is None or user.session_version != version or not user.is_active:
        return None
    user.session_secret = secret
    g._sign_in_seen = rows[0][1]
    if staff:
        g._memberships = (user.id, [(org, trust, role) for _, _, org, trust, role, *_ in rows if role])
        g._member_orgs = {row[5].id: row[5] for row in rows if row[5] is not None}  # for the request
    from app.core.cookies import prime

    cookies_end = 6 + len(COOKIE_PURPOSES)
    prime(dict(zip(COOKIE_PURPOSES, rows[0][6:cookies_end], strict=True)))  # one column per purpose
    g._layout_loaded = (user.id, dict(zip(names, rows[0][cookies_end:], strict=True)))
    return user


# The family's own pages: only a parent or carer may use them (staff are refused), so the user
# loader does not read staff memberships there; should anything on such a page ask for them, they
# are read then (``_loaded_memberships`` is None).
FAMILY_BLUEPRINTS = frozenset({"parents"})


@functools.cache
def _loader_read(names: tuple[str, ...], staff: bool) -> DirectRead:
    """The loader's statement compiled once per process, run by psycopg (``direct_reads``): it
    runs on every request of a signed-in person."""
    return DirectRead(_loader_statement(names, staff))


def _loader_statement(names: tuple[str, ...], staff: bool = True) -> sa.Select:
    """The user loader's query with the layout columns ``names``, built once per process by
    ``_loader_read`` (its values are bound parameters): building it each time cost more than
    running it. ``staff``:
    with the person's staff memberships and their schools (one row each); without, NULLs in
    their place (a family's page: seventeen columns fewer to read)."""
    m, live = StaffMembership, UserSession
    memberships = (m.organisation_id, m.trust_id, m.role, Organisation) if staff else (sa.null(),) * 4
    query = (
        sa.select(
            User,
            live.last_seen_at,
            *memberships,
            *(_latest_consent(p) for p in COOKIE_PURPOSES),
            *(_LAYOUT_COLUMNS[name][1]() for name in names),
        )
        .join(
            live,
            sa.and_(
                live.user_id == User.id,
                live.secret_hash == sa.bindparam("secret_hash", type_=live.secret_hash.type),
                live.ended_at.is_(None),
            ),
        )
        .where(User.id == sa.bindparam("user_id", type_=User.id.type))
    )
    if staff:
        query = query.outerjoin(m, m.user_id == User.id).outerjoin(
            Organisation, Organisation.id == m.organisation_id
        )
    return query


# What the layout shows on every page (and the family home's children, the first thing that page
# reads), read by the user loader's one query rather than by a query of its own each:
# name -> (wanted, build). ``wanted()`` says whether this request needs it;
# ``build()`` gives a column correlated to ``User`` (called once per process). Features register
# theirs (``layout_column``); the page reads the value with ``layout_value``. Read in the same
# statement as the user's row, a value is as fresh as the row: no value is kept across requests.
_LAYOUT_COLUMNS: dict[str, tuple[Callable[[], bool], Callable[[], sa.ColumnElement]]] = {}
NOT_LOADED = object()


def layout_column(name: str, wanted: Callable[[], bool]):
    """Register ``build()`` (a decorator): its column, named ``name``, joins the user loader's
    query in every request for which ``wanted()`` is true."""

    def register(build: Callable[[], sa.ColumnElement]):
        _LAYOUT_COLUMNS[name] = (wanted, build)
        _loader_read.cache_clear()
        return build

    return register


def layout_value(name: str):
    """The value the user loader read for ``name`` in this request, or ``NOT_LOADED`` (no one
    signed in, someone else signed in during this request, or the column was not asked for):
    then the caller runs its own query."""
    owner, values = from_g("_layout_loaded", (None, {}))
    if owner is None:
        return NOT_LOADED
    user = signed_in_user()
    if not user.is_authenticated or user.id != owner:
        return NOT_LOADED
    return values.get(name, NOT_LOADED)


def _latest_consent(purpose: ConsentPurpose):
    """The person's latest decision for ``purpose`` (None: never decided), as a column."""
    return (
        sa.select(ConsentRecord.granted)
        .where(ConsentRecord.user_id == User.id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


def _loaded_memberships(user: User) -> list[tuple[int | None, int | None, Role]] | None:
    """(organisation_id, trust_id, role) of each of ``user``'s memberships, when the user loader
    read them with the signed-in user in this request; None otherwise (then ask the database)."""
    stash = g.get("_memberships")
    return stash[1] if stash is not None and stash[0] == user.id else None


def _mark(view, rule: str):
    view._access = rule  # read by tests/crosscutting/test_routes.py
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
        user = signed_in_user()
        if not user.is_authenticated:
            return login.unauthorized()
        if user.kind is not UserKind.PARENT:
            abort(403)
        return view(*args, **kwargs)

    return _mark(wrapper, "parent")


def staff_required(*roles: str):
    """A signed-in member of staff with one of ``roles`` (any staff role when none given) at the
    school the page acts on. That school (``g.hometime_org_id``, current_organisation()) is one
    where the person holds one of ``roles``: a role at another school never opens the page."""
    wanted = frozenset(Role(r) for r in roles) or PERMISSIONS["staff"]

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login.unauthorized()
            if current_user.kind is not UserKind.STAFF:
                abort(403)
            org_id = _school_for_roles(current_user, wanted)
            if org_id is None:
                abort(403)
            g.hometime_org_id = org_id
            if (
                current_app.config["REQUIRE_STAFF_MFA"]
                and not current_user.mfa_enabled_at
                and request.endpoint not in ("auth.mfa_enrol",)
            ):
                return redirect(url_for("auth.mfa_enrol"))
            return view(*args, **kwargs)

        return _mark(wrapper, "staff:" + ",".join(sorted(r.value for r in wanted)))

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


# --- roles at one school (P12) ------------------------------------------------------------------
#
# A member of staff holds (school, role) pairs: one per membership, and, for a trust DPO
# membership, DPO at each school of that trust.  Every permission is asked of one school:
# ``can(user, "see_school", school_id)``.  A role held at one school never widens anything at
# another: a teacher at A who is office at B has office powers at B and teacher powers at A.

OFFICE_ROLES = frozenset({Role.OFFICE, Role.DPO})
PERMISSIONS: dict[str, frozenset[Role]] = {
    "staff": frozenset(Role),  # work at the school: its library, the classes one teaches
    "see_school": OFFICE_ROLES,  # every class, pupil, topic, comment and photo of the school
    "office": OFFICE_ROLES,  # the office pages and the privacy desk of the school
    "manage_roster": frozenset({Role.OFFICE}),  # import the roster, invite staff
}


def school_roles(user: User) -> dict[int, frozenset[Role]]:
    """The roles ``user`` holds at each school, by school id (a trust DPO membership counts as
    DPO at every school of the trust). Built on the memberships the user loader read; worked out
    once per request for the signed-in person, read afresh for anyone else."""
    loaded = _loaded_memberships(user)
    if loaded is not None:
        cached = g.get("_school_roles")
        if cached is not None and cached[0] == user.id:
            return cached[1]
    rows = (
        loaded
        if loaded is not None
        else db.session.execute(
            sa.select(StaffMembership.organisation_id, StaffMembership.trust_id, StaffMembership.role).where(
                StaffMembership.user_id == user.id
            )
        ).all()
    )
    held: dict[int, set[Role]] = {}
    for org_id, _, role in rows:
        if org_id:
            held.setdefault(org_id, set()).add(role)
    by_trust: dict[int, set[Role]] = {}
    for _, trust_id, role in rows:
        if trust_id:
            by_trust.setdefault(trust_id, set()).add(role)
    if by_trust:
        for org_id, trust_id in db.session.execute(
            sa.select(Organisation.id, Organisation.trust_id).where(Organisation.trust_id.in_(list(by_trust)))
        ):
            if trust_id in by_trust:  # always (the query asked for these trusts)
                held.setdefault(org_id, set()).update(by_trust[trust_id])
    result = {org_id: frozenset(roles) for org_id, roles in sorted(held.items())}
    if loaded is not None:
        g._school_roles = (user.id, result)
    return result


def roles_at(user: User, organisation_id: int | None) -> frozenset[Role]:
    """The roles ``user`` holds at this one school (none: not staff there)."""
    if user is None or not getattr(user, "is_staff", False) or organisation_id is None:
        return frozenset()
    return school_roles(user).get(organisation_id, frozenset())


def can(user: User, permission: str, organisation_id: int | None) -> bool:
    """May ``user`` do ``permission`` (a key of PERMISSIONS) at this one school?"""
    return bool(roles_at(user, organisation_id) & PERMISSIONS[permission])


def schools_where(user: User, permission: str) -> list[int]:
    """The schools, by id, where ``user`` may do ``permission`` (each asked on its own)."""
    if user is None or not getattr(user, "is_staff", False):
        return []
    wanted = PERMISSIONS[permission]
    return [org_id for org_id, roles in school_roles(user).items() if roles & wanted]


def staff_organisation_ids(user: User) -> list[int]:
    """Schools where ``user`` holds any staff role (what they may see there is asked per school)."""
    return schools_where(user, "staff")


def office_organisation_ids(user: User) -> list[int]:
    """Schools whose office side ``user`` runs: where they are office staff or DPO, and every
    school of a trust they are DPO of. (A school where they only teach is not one of them.)"""
    return schools_where(user, "office")


def is_office(user: User, organisation_id: int) -> bool:
    """Office staff or DPO at this school (a role at another school does not count)."""
    return can(user, "office", organisation_id)


def _school_for_roles(user: User, roles: frozenset[Role]) -> int | None:
    """The school a page guarded by ``roles`` acts on: the first school where ``user`` holds one
    of them, a school of their own membership before a trust's."""
    direct = {org for org, _, _ in _memberships(user) if org}
    found = [org_id for org_id, held in school_roles(user).items() if held & roles]
    return min(found, key=lambda org_id: (org_id not in direct, org_id), default=None)


def _memberships(user: User) -> list[tuple[int | None, int | None, Role]]:
    loaded = _loaded_memberships(user)
    if loaded is not None:
        return loaded
    return [
        (org_id, trust_id, role)
        for org_id, trust_id, role in db.session.execute(
            sa.select(StaffMembership.organisation_id, StaffMembership.trust_id, StaffMembership.role).where(
                StaffMembership.user_id == user.id
            )
        )
    ]


def current_organisation() -> Organisation | None:
    """The school a member of staff is working in: the one where they hold the role the page
    asked for (so a teacher at one school who is office at another acts as office only there)."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return None
    org_id = g.get("hometime_org_id")
    if org_id is None:
        org_id = _school_for_roles(current_user, PERMISSIONS["staff"])
    if not org_id:
        return None
    held = g.setdefault("_member_orgs", {})  # a strong reference: the session's map is weak
    if org_id not in held:
        held[org_id] = db.session.get(Organisation, org_id)
    return held[org_id]


def acting_school() -> Organisation:
    """:func:`current_organisation` for a page behind :func:`staff_required`, which has already
    found the school (so this never answers 403 there)."""
    org = current_organisation()
    if org is None:
        abort(403)
    return org


def scope_params(user: User) -> dict[str, object]:
    """The values of the scope clauses' bound parameters (``taught_by``, ``record_scope``) for
    ``user``: pass them with every statement built on those clauses."""
    return {
        "scope_user": user.id,
        "scope_office": office_organisation_ids(user) or [-1],
        "scope_staff": staff_organisation_ids(user) or [-1],
    }


def taught_by(class_id):
    """A clause: the class ``class_id`` (a column) is one the user teaches (the user is a bound
    parameter: ``scope_params``)."""
    return sa.exists().where(
        class_teachers.c.class_id == class_id,
        class_teachers.c.user_id == sa.bindparam("scope_user", type_=sa.Integer),
    )


def record_scope(organisation_id, taught):
    """A clause for a school's records that the user may see, each asked of the record's own
    school: every record of a school where they are office or DPO; at a school where they are
    otherwise staff, only those for which ``taught`` (a clause: of a class they teach) holds.
    The user's schools are bound parameters (``scope_params``), each one array, so a statement
    built on this clause is built once per process and its text is the same for anyone (an
    expanding ``IN`` would be written again on every run, for the number of schools)."""
    return sa.or_(
        organisation_id == sa.any_(bound_list("scope_office", sa.Integer)),
        sa.and_(organisation_id == sa.any_(bound_list("scope_staff", sa.Integer)), taught),
    )


@functools.cache
def visible_classes() -> sa.Select:
    """A select of the classes a member of staff may see: every class of a school where they are
    office/DPO, and the classes they teach at a school where they are staff (run it with
    ``scope_params``)."""
    return sa.select(SchoolClass).where(record_scope(SchoolClass.organisation_id, taught_by(SchoolClass.id)))


@functools.cache
def _class_read(with_school: bool) -> DirectRead:
    """The class (and its school) by id within the user's scope, compiled once per process (the
    class view runs it on every visit and every refresh)."""
    query = visible_classes().where(SchoolClass.id == sa.bindparam("class_id", type_=sa.Integer))
    if with_school:
        query = query.add_columns(Organisation).join(
            Organisation, Organisation.id == SchoolClass.organisation_id
        )
    return DirectRead(query)


def class_for_staff_or_404(class_id: int, with_school: bool = False) -> SchoolClass:
    """A class the user may see (``visible_classes``); with its school loaded when asked."""
    rows = _class_read(with_school).run({**scope_params(current_user), "class_id": class_id})
    if not rows:
        abort(404)
    found = rows[0][0]
    if with_school:
        loaded(found, "organisation", rows[0][1])
    return found


@functools.cache
def _pupil_read() -> DirectRead:
    """The pupil by id within the user's scope, with the class (every page about a child names
    it), compiled once per process."""
    query = (
        sa.select(Pupil, SchoolClass)
        .outerjoin(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(
            Pupil.id == sa.bindparam("pupil_id", type_=sa.Integer),
            record_scope(Pupil.organisation_id, taught_by(Pupil.class_id)),
        )
    )
    return DirectRead(query)


def pupil_for_staff_or_404(pupil_id: int) -> Pupil:
    """A pupil of a school where the user is office/DPO, or of a class they teach."""
    rows = _pupil_read().run({**scope_params(current_user), "pupil_id": pupil_id})
    if not rows:
        abort(404)
    found, school_class = rows[0]
    loaded(found, "school_class", school_class)
    return found


def linked_pupils(user, pupil=Pupil):
    """A select of the children linked to a parent (including those the school has removed: P18);
    a bound parameter instead of the parent for a statement built once and run for anyone, or a
    column (``User.id``) for a subquery correlated to the user's row, with ``pupil`` an alias."""
    parent_id = user.id if isinstance(user, User) else user
    link = Guardianship if pupil is Pupil else sa.orm.aliased(Guardianship)
    return (
        sa.select(pupil)
        .join(link, link.pupil_id == pupil.id)
        .where(link.parent_id == parent_id, link.removed_at.is_(None), pupil.erased_at.is_(None))
        .order_by(pupil.first_name, pupil.id)
    )


@functools.cache
def _parent_pupil_read() -> DirectRead:
    """A child linked to the parent ``:parent_id``, by id, with their school and class (a
    family's pages about a child name both), compiled once per process."""
    return DirectRead(
        linked_pupils(sa.bindparam("parent_id", type_=sa.Integer))
        .add_columns(Organisation, SchoolClass)
        .join(Organisation, Organisation.id == Pupil.organisation_id)
        .outerjoin(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Pupil.id == sa.bindparam("pupil_id", type_=sa.Integer))
    )


def pupil_for_parent_or_404(pupil_id: int) -> Pupil:
    rows = _parent_pupil_read().run({"parent_id": current_user.id, "pupil_id": pupil_id})
    if not rows:
        abort(404)
    found, organisation, school_class = rows[0]
    loaded(found, "organisation", organisation)
    loaded(found, "school_class", school_class)
    return found


def staff_user_ids(
    organisation_id: int, roles: set[Role], *, trust_roles: set[Role] | None = None
) -> list[int]:
    """Active accounts holding one of ``roles`` at this school, or one of ``trust_roles`` (by
    default the same roles) through the school's trust: who a reminder about the school goes to."""
    trust_id = sa.select(Organisation.trust_id).where(Organisation.id == organisation_id).scalar_subquery()
    through_trust = roles if trust_roles is None else trust_roles
    return list(
        db.session.scalars(
            sa.select(User.id)
            .distinct()
            .join(StaffMembership, StaffMembership.user_id == User.id)
            .where(
                User.status == UserStatus.ACTIVE,
                sa.or_(
                    sa.and_(
                        StaffMembership.organisation_id == organisation_id, StaffMembership.role.in_(roles)
                    ),
                    sa.and_(
                        StaffMembership.trust_id.is_not(None),
                        StaffMembership.trust_id == trust_id,
                        StaffMembership.role.in_(through_trust),
                    ),
                ),
            )
            .order_by(User.id)
        )
    )


def carer_ids(pupil_id: int) -> list[int]:
    """The carers linked to a child now (links the carer or the school removed are left out):
    who hears about the child. The delivery policy still leaves out "no contact" links (P25)."""
    return list(
        db.session.scalars(
            sa.select(Guardianship.parent_id).where(
                Guardianship.pupil_id == pupil_id, Guardianship.removed_at.is_(None)
            )
        )
    )
