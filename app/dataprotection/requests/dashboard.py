"""What the privacy desk sees (P27): requests overdue, due within a week and paused, read in one
query; and what the daily reminder tells the office.

A public-form request counts only once its email is confirmed; a paused request's clock is
stopped, so it is listed as paused and never as due or overdue.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from app.core.authz import staff_user_ids
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.dataprotection.requests import deadlines
from app.models import (
    OPEN_STATES,
    PrivacyRequest,
    Pupil,
    RequestChannel,
    RequestKind,
    RequestState,
    Role,
    bound_list,
    one_of,
)

_OPEN = [RequestState(s) for s in OPEN_STATES]
_COUNTED = sa.or_(
    PrivacyRequest.confirmed_at.is_not(None), PrivacyRequest.channel != RequestChannel.PUBLIC_FORM
)


class Listed(NamedTuple):
    """What a desk's list shows of a request, read as plain values (``row.request.id``, ...):
    hundreds of full ORM objects cost more than the rest of the page."""

    id: int
    kind: RequestKind
    state: RequestState
    organisation_id: int
    requester_name: str
    on_behalf_of: str | None
    due_on: date | None
    paused_since: date | None


def _listed_columns() -> tuple:
    r = PrivacyRequest
    return (
        r.id,
        r.kind,
        r.state,
        r.organisation_id,
        r.requester_name,
        r.on_behalf_of,
        r.due_on,
        r.paused_since,
    )


@dataclass
class DeskRow:
    request: Listed
    subject_name: str | None  # the child the request is about, when it is about a child
    days_left: int  # negative when overdue; for a paused request, what is left on the clock
    status: str  # "Due today", "3 days left", "Overdue by 2 days", "Paused since 4 March 2025"


@dataclass
class Desk:
    overdue: list[DeskRow] = field(default_factory=list)
    due_soon: list[DeskRow] = field(default_factory=list)
    paused: list[DeskRow] = field(default_factory=list)


def desk(organisation_ids, today: date) -> Desk:
    """The open requests of these schools that need attention, in one query: overdue, due
    within :data:`~app.dataprotection.requests.deadlines.DUE_SOON_DAYS` days (today included), and paused.
    Each list is ordered by deadline."""
    rows = _desk_read().run(_params(organisation_ids, today))
    result = Desk()
    for req, first, last in _listed(rows):
        due = req.due_on
        if due is None:  # never for a counted request: record_event() sets it
            continue
        name = f"{first} {last}".strip() if first is not None else None
        if req.state is RequestState.PAUSED:
            since = req.paused_since or today
            result.paused.append(
                DeskRow(req, name, deadlines.days_left(due, since), f"Paused since {_day(since)}")
            )
            continue
        row = DeskRow(req, name, deadlines.days_left(due, today), deadlines.describe_due(due, today))
        (result.overdue if row.days_left < 0 else result.due_soon).append(row)
    return result


def off_desk(organisation_ids, today: date, limit: int = 200) -> list[tuple[Listed, str | None, str | None]]:
    """The rest of these schools' open, counted requests, which :func:`desk` does not list (no
    deadline yet, or running with more than a week left), by deadline: each as a ``Listed``
    with the child's first and last name."""
    return _listed(_off_desk_read().run(_params(organisation_ids, today) | {"limit": limit}))


def _listed(rows: list[tuple]) -> list[tuple[Listed, str | None, str | None]]:
    return [(Listed(*row[:8]), row[8], row[9]) for row in rows]


def _params(organisation_ids, today: date) -> dict:
    return {"schools": list(organisation_ids), "horizon": today + timedelta(days=deadlines.DUE_SOON_DAYS)}


def _open_requests() -> sa.Select:
    """These schools' (``:schools``) open, counted requests, with the child's name."""
    return (
        sa.select(*_listed_columns(), Pupil.first_name, Pupil.last_name)
        .outerjoin(Pupil, Pupil.id == PrivacyRequest.subject_pupil_id)
        .where(
            PrivacyRequest.organisation_id == sa.any_(bound_list("schools", sa.Integer)),
            one_of(PrivacyRequest.state, _OPEN),
            _COUNTED,
        )
    )


@functools.cache
def _desk_read() -> DirectRead:
    """Paused, or due by ``:horizon``; built once per process and read directly (the desk is the
    office's most visited page: building the statement cost more than running it)."""
    horizon = sa.bindparam("horizon", type_=sa.Date)
    return DirectRead(
        _open_requests()
        .where(sa.or_(PrivacyRequest.state == RequestState.PAUSED, PrivacyRequest.due_on <= horizon))
        .order_by(PrivacyRequest.due_on, PrivacyRequest.id)
    )


@functools.cache
def _off_desk_read() -> DirectRead:
    """No deadline yet, or running and due after ``:horizon``: the rest of the list (in SQL, so
    it needs no list of the desk's ids); up to ``:limit``. Built once per process."""
    horizon = sa.bindparam("horizon", type_=sa.Date)
    return DirectRead(
        _open_requests()
        .where(
            sa.or_(
                PrivacyRequest.due_on.is_(None),
                sa.and_(PrivacyRequest.state != RequestState.PAUSED, PrivacyRequest.due_on > horizon),
            )
        )
        .order_by(PrivacyRequest.due_on.nulls_last(), PrivacyRequest.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def due_for_reminder(today: date) -> dict[int, dict[str, list[int]]]:
    """Per school, the ids of open, running requests that are overdue or due within a week:
    ``{organisation_id: {"overdue": [...], "due_soon": [...]}}``, in one query."""
    horizon = today + timedelta(days=deadlines.DUE_SOON_DAYS)
    rows = db.session.execute(
        sa.select(PrivacyRequest.organisation_id, PrivacyRequest.id, PrivacyRequest.due_on)
        .where(
            PrivacyRequest.state.in_([s for s in _OPEN if s is not RequestState.PAUSED]),
            _COUNTED,
            PrivacyRequest.due_on <= horizon,
        )
        .order_by(PrivacyRequest.organisation_id, PrivacyRequest.due_on, PrivacyRequest.id)
    ).all()
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"overdue": [], "due_soon": []})
    for org_id, req_id, due in rows:
        if due is not None:  # always (due_on <= horizon)
            found[org_id]["overdue" if due < today else "due_soon"].append(req_id)
    return dict(found)


def office_recipients(organisation_id: int) -> list[int]:
    """The people the reminder goes to: the school's office staff and DPO, and the DPO of its
    trust; active accounts only."""
    return staff_user_ids(organisation_id, {Role.OFFICE, Role.DPO}, trust_roles={Role.DPO})


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"
