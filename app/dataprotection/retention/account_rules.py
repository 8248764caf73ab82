"""Nightly rules about parents' accounts: the yearly "check your details" message (P10), and the
closure notice and closure after a year without use (P19).

Each rule is a ``select`` of the user ids it would act on as of a moment and an ``apply`` for one
chunk of them, run by ``app.dataprotection.retention.rules`` (chunked, one transaction per chunk, idempotent).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.core.extensions import db
from app.models import Guardianship, Organisation, Pupil, User, UserKind, UserStatus, one_of

NOTICE_DAYS = 30  # P19: the closure notice comes 30 days before closure
DETAILS_MONTHS = 12  # P10: families are asked to check their details once a year


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months earlier (month-end clamped)."""
    month = moment.month - months
    year = moment.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = min(
        moment.day,
        [
            31,
            29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month - 1],
    )
    return moment.replace(year=year, month=month, day=day)


def _last_seen():
    return sa.func.coalesce(User.last_active_at, User.created_at)


def _live_parents():
    return sa.select(User.id).where(
        User.kind == UserKind.PARENT, one_of(User.status, [UserStatus.ACTIVE, UserStatus.INVITED])
    )


def periods_of(column, default: int) -> list[int]:
    """Every value of a school setting in use, and the default (a few: one OR branch each)."""
    return sorted(set(db.session.scalars(sa.select(column).distinct())) | {default})


def by_family_period(query: sa.Select, column, default: int, condition) -> sa.Select:
    """``query`` (of parents' ids) kept to the parents for whom ``condition(period)`` holds, a
    parent's period being the shortest that any school of their children has set in ``column``
    (``default`` with no child linked): each family is held to its own schools' promises, never
    to another school's. One branch per period in use, so there is no date arithmetic in SQL."""
    family = (
        sa.select(Guardianship.parent_id, sa.func.min(column).label("period"))
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(Organisation, Organisation.id == Pupil.organisation_id)
        .group_by(Guardianship.parent_id)
        .subquery()
    )
    period = sa.func.coalesce(family.c.period, default)
    return query.outerjoin(family, family.c.parent_id == User.id).where(
        sa.or_(*(sa.and_(period == value, condition(value)) for value in periods_of(column, default)))
    )


# --- P10: once a year, ask each family to check the details the school holds ------------------


def select_details_reminder(as_of: datetime) -> sa.Select:
    """Active parents whose details were last checked (or, never checked, who joined) a year or
    more ago, and who were not asked in the last year. Not those already told their account is
    about to close: that message asks them to sign in, which is the first step anyway."""
    year_ago = months_before(as_of, DETAILS_MONTHS)
    return _live_parents().where(
        User.status == UserStatus.ACTIVE,
        User.closure_notice_sent_at.is_(None),
        sa.func.coalesce(User.details_checked_at, User.created_at) <= year_ago,
        sa.or_(User.details_reminded_at.is_(None), User.details_reminded_at <= year_ago),
    )


def apply_details_reminder(ids: list[int], as_of: datetime) -> None:
    from app.messaging.notify import notify

    # Sent about the school that holds the details (on its behalf when it supplied the family,
    # P02): a family at several schools is asked once, about the first.
    school = dict(
        db.session.execute(
            sa.select(Guardianship.parent_id, sa.func.min(Pupil.organisation_id))
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(Guardianship.parent_id.in_(ids), Guardianship.removed_at.is_(None))
            .group_by(Guardianship.parent_id)
        ).all()
    )
    by_school: dict[int | None, list[int]] = {}
    for user_id in ids:
        by_school.setdefault(school.get(user_id), []).append(user_id)
    for organisation_id, user_ids in by_school.items():
        # One event a calendar year: a rerun, or a second reminder the same year, adds nothing.
        notify(
            "check_details",
            event_key=f"check-details:{as_of:%Y}",
            user_ids=user_ids,
            organisation_id=organisation_id,
        )
    db.session.execute(sa.update(User).where(User.id.in_(ids)).values(details_reminded_at=as_of))


# --- P19: notice 30 days before closure, closure after the inactivity period -----------------


def _inactive_by(moment: datetime):
    """Parents who, by ``moment``, have gone their schools' period (12 months) without use."""
    return lambda months: _last_seen() <= months_before(moment, months)


def select_notice(as_of: datetime) -> sa.Select:
    return by_family_period(
        _live_parents().where(User.status == UserStatus.ACTIVE, User.closure_notice_sent_at.is_(None)),
        Organisation.inactive_months,
        12,
        _inactive_by(as_of + timedelta(days=NOTICE_DAYS)),
    )


def apply_notice(ids: list[int], as_of: datetime) -> None:
    from app.messaging.notify import notify

    for user_id, seen in db.session.execute(sa.select(User.id, _last_seen()).where(User.id.in_(ids))):
        notify(
            "closure_notice",
            event_key=f"user:{user_id}:closure-notice:{seen:%Y%m%d}",
            user_ids=[user_id],
            organisation_id=None,
            context={"closes_on": (as_of + timedelta(days=NOTICE_DAYS)).date().isoformat()},
        )
    db.session.execute(sa.update(User).where(User.id.in_(ids)).values(closure_notice_sent_at=as_of))


def select_close(as_of: datetime) -> sa.Select:
    return by_family_period(
        _live_parents().where(
            User.status == UserStatus.ACTIVE,
            User.closure_notice_sent_at.is_not(None),
            User.closure_notice_sent_at <= as_of - timedelta(days=NOTICE_DAYS),
            _last_seen() <= User.closure_notice_sent_at,
        ),
        Organisation.inactive_months,
        12,
        _inactive_by(as_of),
    )


def apply_close(ids: list[int], as_of: datetime) -> None:
    from app.messaging.notify import notify

    # Told first, while the account is still open; nothing is sent to it afterwards (P17).
    notify(
        "account_closed",
        event_key="account-closed",
        user_ids=ids,
        organisation_id=None,
        context={"reason": "inactive"},
    )
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(ids))
        .values(
            status=UserStatus.DEACTIVATED,
            deactivated_at=as_of,
            deactivation_reason="inactive",
            session_version=User.session_version + 1,
        )
    )


def select_reset_notice(as_of: datetime) -> sa.Select:
    """Parents who came back after a closure notice: the notice no longer applies."""
    return sa.select(User.id).where(
        User.closure_notice_sent_at.is_not(None),
        User.status == UserStatus.ACTIVE,
        _last_seen() > User.closure_notice_sent_at,
    )


def apply_reset_notice(ids: list[int], as_of: datetime) -> None:
    db.session.execute(sa.update(User).where(User.id.in_(ids)).values(closure_notice_sent_at=None))
