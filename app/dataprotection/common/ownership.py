"""Whose rows are whose: the one place that says, for every table of the data inventory whose rows
belong to a person, how to find that person's rows (P22, P23).

Two kinds of people own rows: a person with an account (``by_user``: a parent, or staff) and a
child (``by_pupil``). Each path is a SQL condition on the table's own columns (a foreign key, or
a key reached through one), so the access export (:mod:`app.dataprotection.exports.service`) and erasure
(:mod:`app.dataprotection.rights.erasure`) walk exactly the same rows. ``tests/dataprotection/test_exports.py`` fails when a
table of the inventory with a personal subject has no path here.

``ORG_SCOPE`` narrows a person's rows to one school (an export is made by one school's office,
which must not see what the family shares with another school). It keeps the account's rows of
no school (sign-ins, account-wide settings) only for a person who is this school's alone; for a
person linked to several schools :func:`school_rows` keeps this school's rows only
(``SCHOOL_ONLY``) and of the account row only the contact details every one of those schools
holds (``SHARED_COLUMNS``). ``REQUESTER_ONLY`` narrows a child's rows to those of the carer who
asked (another carer's own records are theirs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.core.extensions import db

Clause = Callable[[Any], sa.ColumnElement]  # an id, or a bound parameter standing for one
Key = int | sa.BindParameter[int]


def t(name: str) -> sa.Table:
    """The table called ``name`` (every model is imported with :mod:`app.models`)."""
    import app.models  # noqa: F401 - registers every table

    return db.metadata.tables[name]


@dataclass(frozen=True)
class Path:
    """How to find a person's (``by_user``) or a child's (``by_pupil``) rows of a table."""

    by_user: Clause | None = None  # rows of a person with an account
    by_pupil: Clause | None = None  # rows of a child


def _pupil_engagements(pupil_id: int):
    return sa.select(t("engagements").c.id).where(t("engagements").c.pupil_id == pupil_id)


def _requests_by(user_id: int):
    return sa.select(t("privacy_requests").c.id).where(t("privacy_requests").c.requester_id == user_id)


def _requests_about(pupil_id: int):
    return sa.select(t("privacy_requests").c.id).where(t("privacy_requests").c.subject_pupil_id == pupil_id)


def _addresses(user_id: int):
    users = t("users")
    return sa.union(
        sa.select(users.c.email).where(users.c.id == user_id),
        sa.select(users.c.mobile).where(users.c.id == user_id),
    )


def _col(table: str, column: str) -> Callable[[int], sa.ColumnElement]:
    return lambda value: t(table).c[column] == value


OWNERSHIP: dict[str, Path] = {
    "users": Path(by_user=_col("users", "id")),
    "staff_memberships": Path(by_user=_col("staff_memberships", "user_id")),
    "class_teachers": Path(by_user=_col("class_teachers", "user_id")),
    "recovery_codes": Path(by_user=_col("recovery_codes", "user_id")),
    "login_tokens": Path(by_user=_col("login_tokens", "user_id")),
    "user_sessions": Path(by_user=_col("user_sessions", "user_id")),
    "invitations": Path(by_user=_col("invitations", "user_id")),
    "pupils": Path(by_pupil=_col("pupils", "id")),
    "guardianships": Path(
        by_user=_col("guardianships", "parent_id"), by_pupil=_col("guardianships", "pupil_id")
    ),
    "engagements": Path(by_user=_col("engagements", "done_by_id"), by_pupil=_col("engagements", "pupil_id")),
    "contributions": Path(
        by_user=_col("contributions", "author_id"),
        by_pupil=lambda p: t("contributions").c.engagement_id.in_(_pupil_engagements(p)),
    ),
    "awards": Path(by_pupil=_col("awards", "pupil_id")),
    "usage_events": Path(by_user=_col("usage_events", "user_id"), by_pupil=_col("usage_events", "pupil_id")),
    "consent_records": Path(
        by_user=_col("consent_records", "user_id"), by_pupil=_col("consent_records", "pupil_id")
    ),
    "privacy_requests": Path(
        by_user=_col("privacy_requests", "requester_id"),
        by_pupil=_col("privacy_requests", "subject_pupil_id"),
    ),
    "request_events": Path(
        by_user=lambda u: t("request_events").c.request_id.in_(_requests_by(u)),
        by_pupil=lambda p: t("request_events").c.request_id.in_(_requests_about(p)),
    ),
    "data_exports": Path(
        by_user=lambda u: t("data_exports").c.request_id.in_(_requests_by(u)),
        by_pupil=lambda p: t("data_exports").c.request_id.in_(_requests_about(p)),
    ),
    "activity_log": Path(by_user=_col("activity_log", "user_id")),
    "notification_deliveries": Path(by_user=_col("notification_deliveries", "user_id")),
    "outbox_messages": Path(by_user=lambda u: t("outbox_messages").c.to.in_(_addresses(u))),
}


def _school_pupils(org_id: int):
    return sa.select(t("pupils").c.id).where(t("pupils").c.organisation_id == org_id)


def _school_requests(org_id: int):
    return sa.select(t("privacy_requests").c.id).where(t("privacy_requests").c.organisation_id == org_id)


def _org_or_none(table: str) -> Clause:
    return lambda org: sa.or_(t(table).c.organisation_id.is_(None), t(table).c.organisation_id == org)


# A person's rows as one school may see them (rows of no school, e.g. sign-ins, are included).
ORG_SCOPE: dict[str, Clause] = {
    "staff_memberships": _col("staff_memberships", "organisation_id"),
    "class_teachers": lambda org: t("class_teachers").c.class_id.in_(
        sa.select(t("classes").c.id).where(t("classes").c.organisation_id == org)
    ),
    "invitations": _col("invitations", "organisation_id"),
    "guardianships": lambda org: t("guardianships").c.pupil_id.in_(_school_pupils(org)),
    "engagements": lambda org: t("engagements").c.pupil_id.in_(_school_pupils(org)),
    "contributions": lambda org: t("contributions").c.engagement_id.in_(
        sa.select(t("engagements").c.id).where(t("engagements").c.pupil_id.in_(_school_pupils(org)))
    ),
    "usage_events": lambda org: sa.or_(
        t("usage_events").c.pupil_id.is_(None), t("usage_events").c.pupil_id.in_(_school_pupils(org))
    ),
    "consent_records": _org_or_none("consent_records"),
    "privacy_requests": _col("privacy_requests", "organisation_id"),
    "request_events": lambda org: t("request_events").c.request_id.in_(_school_requests(org)),
    "data_exports": lambda org: t("data_exports").c.request_id.in_(_school_requests(org)),
    "activity_log": _org_or_none("activity_log"),
    "notification_deliveries": _org_or_none("notification_deliveries"),
}

# Sign-in events are about the account, whichever school's row they were filed under.
ACCOUNT_EVENTS = (
    "signin",
    "signin_failed",
    "signin_throttled",
    "signin_link_sent",
    "sms_code_sent",
    "signout",
    "signout_everywhere",
    "reauth",
    "password_reset",
    "password_reset_failed",
    "password_reset_sent",
    "password_changed",
    "password_set",
    "mfa_enrolled",
    "mfa_disabled",
    "recovery_code_used",
    "recovery_codes_regenerated",
)

# A person's rows that belong to one school alone (for a person linked to several schools):
# nothing of no school (sign-ins, account-wide settings) and no sign-in event.
SCHOOL_ONLY: dict[str, Clause] = {
    **ORG_SCOPE,
    "usage_events": lambda org: t("usage_events").c.pupil_id.in_(_school_pupils(org)),
    "consent_records": _col("consent_records", "organisation_id"),
    "activity_log": lambda org: sa.and_(
        t("activity_log").c.organisation_id == org, t("activity_log").c.event.not_in(ACCOUNT_EVENTS)
    ),
    "notification_deliveries": _col("notification_deliveries", "organisation_id"),
}

# Of the account itself, what every school the person belongs to holds as its own family's or
# staff member's details (and already shows its office): the rest of the row is account-wide.
SHARED_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "kind", "name", "email", "mobile"),
}


def person_schools(user_id: int) -> set[int]:
    """The schools whose person an account is: those of the children it is or was linked to,
    and those where it holds a staff role (a trust role: the trust's schools). A school is
    controller only of its own people's data (P12)."""
    g, p, m, o = t("guardianships"), t("pupils"), t("staff_memberships"), t("organisations")
    return set(
        db.session.scalars(
            sa.union(
                sa.select(p.c.organisation_id)
                .join(g, g.c.pupil_id == p.c.id)
                .where(g.c.parent_id == user_id),
                sa.select(m.c.organisation_id).where(
                    m.c.user_id == user_id, m.c.organisation_id.is_not(None)
                ),
                sa.select(o.c.id).join(m, m.c.trust_id == o.c.trust_id).where(m.c.user_id == user_id),
            )
        )
    )


def school_rows(table: str, org_id: int, *, whole_account: bool) -> sa.ColumnElement | None:
    """How a school narrows a person's rows of ``table`` (None: not at all). ``whole_account``:
    the person is this school's alone, so the account's rows of no school are its too;
    otherwise only rows of this school, and none of the account-wide tables (the shared
    columns of :data:`SHARED_COLUMNS` aside, which the export keeps and blanks the rest)."""
    if whole_account:
        return ORG_SCOPE[table](org_id) if table in ORG_SCOPE else None
    if table in SCHOOL_ONLY:
        return SCHOOL_ONLY[table](org_id)
    return None if table in SHARED_COLUMNS else sa.false()


# A child's rows that are really one carer's own records: only the asking carer's are theirs.
REQUESTER_ONLY: dict[str, Clause] = {
    "guardianships": _col("guardianships", "parent_id"),
    "consent_records": _col("consent_records", "user_id"),
    "privacy_requests": _col("privacy_requests", "requester_id"),
    "request_events": lambda u: t("request_events").c.request_id.in_(_requests_by(u)),
    "data_exports": lambda u: t("data_exports").c.request_id.in_(_requests_by(u)),
}


def condition(
    table: str, *, user_id: Key | None = None, pupil_id: Key | None = None
) -> sa.ColumnElement | None:
    """The rows of ``table`` that belong to the person and/or the child, or None when the table
    holds nothing of theirs. The id may be a bound parameter, for a statement built once."""
    path = OWNERSHIP.get(table)
    if path is None:
        return None
    parts = []
    if user_id is not None and path.by_user is not None:
        parts.append(path.by_user(user_id))
    if pupil_id is not None and path.by_pupil is not None:
        parts.append(path.by_pupil(pupil_id))
    return sa.or_(*parts) if parts else None
