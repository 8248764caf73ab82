"""The breach log (P29): every personal-data breach with the time the school became aware, the
72-hour clock to the report to the regulator (the ICO), the regulator's fields, the decision (and
the reason when it is not reported, or reported late) and whether families were told.

Each public write function is one transaction: it commits on success; on a :class:`BreachError`
nothing is saved. Times are stored in UTC; forms give them as local times of the school
(``datetime-local`` inputs), read with :func:`parse_local`.

Reminders: the data protection officer (the school's ``dpo_email`` and any DPO accounts of the
school or its trust) is reminded 24, 48 and 66 hours after awareness while no decision has been
taken; ``Breach.reminders_sent`` counts the reminders already sent, so each goes exactly once.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.audit import log_event
from app.core.authz import is_office, staff_user_ids
from app.core.direct_reads import DirectRead
from app.core.errors import ServiceError
from app.core.extensions import db
from app.core.transactions import transaction
from app.messaging import notify as notifications
from app.models import (
    Breach,
    BreachDecision,
    Channel,
    Organisation,
    Role,
    User,
    bound_list,
    utcnow,
)

REPORT_HOURS = 72
REMINDER_HOURS = (24, 48, 66)
FIELDS = (
    "title",
    "what_happened",
    "data_categories",
    "people_affected",
    "records_affected",
    "consequences",
    "measures",
)
D = BreachDecision


class BreachError(ServiceError):
    """A change that cannot be made; ``message`` is shown, ``status`` is the HTTP code."""

    default_status = 422


@dataclass
class Countdown:
    deadline: datetime
    minutes_left: int  # negative once the 72 hours have passed
    text: str  # "41 hours 20 minutes left", "Deadline passed 3 hours ago", "Reported ..."
    overdue: bool
    running: bool  # no decision yet: the page keeps refreshing it


def zone(org: Organisation) -> ZoneInfo:
    return ZoneInfo(org.timezone or "Europe/London")


@functools.cache
def _pending_read() -> DirectRead:
    return DirectRead(
        sa.select(Breach)
        .where(
            Breach.organisation_id == sa.any_(bound_list("schools", sa.Integer)),
            Breach.decision == BreachDecision.PENDING,
        )
        .order_by(Breach.aware_at, Breach.id)
    )


def waiting_for_decision(organisation_ids: list[int]) -> list[Breach]:
    """These schools' breaches not yet decided (report to the ICO or not), oldest first: the
    privacy desk's banner. One direct read, built once."""
    return _pending_read().scalars({"schools": list(organisation_ids)})


@functools.cache
def _logged_read() -> DirectRead:
    return DirectRead(
        sa.select(Breach)
        .where(Breach.organisation_id == sa.any_(bound_list("schools", sa.Integer)))
        .order_by((Breach.decision == BreachDecision.PENDING).desc(), Breach.aware_at.desc())
    )


def logged_for(organisation_ids: list[int]) -> list[Breach]:
    """Every breach of these schools, undecided first, then the most recent: the breach log.
    One direct read, built once."""
    return _logged_read().scalars({"schools": list(organisation_ids)})


def deadline(breach: Breach) -> datetime:
    """72 hours after the school became aware."""
    return breach.aware_at + timedelta(hours=REPORT_HOURS)


def countdown(breach: Breach, now: datetime | None = None) -> Countdown:
    """What the countdown shows at ``now`` (default: this minute)."""
    now = now or utcnow()
    due = deadline(breach)
    if breach.decision is D.REPORTED:
        late = breach.reported_at is not None and breach.reported_at > due  # set with the decision
        return Countdown(
            due,
            0,
            "Reported to the ICO" + (" after the 72 hours" if late else " within 72 hours"),
            late,
            False,
        )
    if breach.decision is D.NOT_REPORTED:
        return Countdown(due, 0, "Decided not to report to the ICO", False, False)
    minutes = math.floor((due - now).total_seconds() / 60)
    if minutes >= 0:
        text = f"{_span(minutes)} left to report to the ICO"
    else:
        text = f"The 72 hours ran out {_span(-minutes)} ago: report now and give the reason"
    return Countdown(due, minutes, text, minutes < 0, True)


def _span(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if mins or not hours:
        parts.append(f"{mins} minute{'s' if mins != 1 else ''}")
    return " ".join(parts)


def parse_local(value: str, org: Organisation, field: str) -> datetime:
    """A ``datetime-local`` form value (the school's local time) as a UTC datetime."""
    try:
        naive = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise BreachError("Give a date and time, like 2026-03-05 14:30.", field=field) from None
    if naive.tzinfo is not None:
        naive = naive.replace(tzinfo=None)
    return naive.replace(tzinfo=zone(org)).astimezone(ZoneInfo("UTC"))


def _clean(fields: dict) -> dict:
    """The regulator's fields, trimmed and checked."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = fields.get(name)
        if name in ("people_affected", "records_affected"):
            text = str(value if value is not None else "").strip().replace(",", "")
            if not text:
                out[name] = None
                continue
            if not text.isdigit() or len(text) > 9:
                raise BreachError("Give a rough whole number (or leave it empty if unknown).", field=name)
            out[name] = int(text)
        else:
            out[name] = (value or "").strip()
    if not out["title"]:
        raise BreachError("Give the breach a short title.", field="title")
    if len(out["title"]) > 160:
        raise BreachError("Keep the title under 160 characters.", field="title")
    if not out["what_happened"]:
        raise BreachError("Say briefly what happened (you can add to it later).", field="what_happened")
    return out


def record(
    actor: User, organisation_id: int, *, aware_at: datetime, now: datetime | None = None, **fields
) -> Breach:
    """Log a new breach with the time the school became aware of it."""
    with transaction():
        org = db.session.get(Organisation, organisation_id)
        if org is None or not is_office(actor, org.id):
            raise BreachError("Choose the school.", field="organisation_id")
        values = _clean(fields)
        if aware_at > (now or utcnow()) + timedelta(minutes=5):
            raise BreachError("The time you became aware cannot be in the future.", field="aware_at")
        breach = Breach(
            organisation_id=org.id,
            aware_at=aware_at,
            created_by_id=actor.id,
            decision=D.PENDING,
            reminders_sent=0,
            **values,
        )
        db.session.add(breach)
        db.session.flush()
        log_event("breach.recorded", actor, subject=f"breach:{breach.id}", organisation_id=org.id)
    return breach


def update(breach_id: int, actor: User, **fields) -> Breach:
    """Change the regulator's fields as more becomes known."""
    with transaction():
        breach = _locked(breach_id, actor)
        for name, value in _clean(fields).items():
            setattr(breach, name, value)
        log_event(
            "breach.updated", actor, subject=f"breach:{breach.id}", organisation_id=breach.organisation_id
        )
    return breach


def decide(
    breach_id: int,
    actor: User,
    *,
    decision: str,
    reported_at: datetime | None = None,
    reason: str = "",
    late_reason: str = "",
    now: datetime | None = None,
) -> Breach:
    """Record the decision: reported to the ICO (when; after 72 hours only with the reason for
    the delay) or not reported (always with the reason)."""
    now = now or utcnow()
    reason, late_reason = (reason or "").strip(), (late_reason or "").strip()
    with transaction():
        breach = _locked(breach_id, actor)
        if decision == D.REPORTED.value:
            reported_at = reported_at or now
            if reported_at < breach.aware_at:
                raise BreachError("The report cannot be before the school became aware.", field="reported_at")
            if reported_at > now + timedelta(minutes=5):
                raise BreachError("The report time cannot be in the future.", field="reported_at")
            late = reported_at > deadline(breach)
            if late and not late_reason:
                raise BreachError(
                    "This was reported more than 72 hours after the school became "
                    "aware: give the reason for the delay (the ICO asks for it).",
                    field="late_reason",
                )
            breach.decision, breach.reported_at = D.REPORTED, reported_at
            breach.late_reason = late_reason if late else None
            breach.decision_reason = reason or None
        elif decision == D.NOT_REPORTED.value:
            if not reason:
                raise BreachError(
                    "Give the reason for not reporting it (for example: no likely risk to anyone's rights).",
                    field="decision_reason",
                )
            breach.decision, breach.decision_reason = D.NOT_REPORTED, reason
            breach.reported_at = breach.late_reason = None
        else:
            raise BreachError("Choose whether it was reported to the ICO.", field="decision")
        log_event(
            "breach.decided",
            actor,
            subject=f"breach:{breach.id}",
            detail=breach.decision.value,
            organisation_id=breach.organisation_id,
        )
    return breach


def families_told(breach_id: int, actor: User, *, at: datetime, now: datetime | None = None) -> Breach:
    """Record when the affected families were told."""
    with transaction():
        breach = _locked(breach_id, actor)
        if at < breach.aware_at:
            raise BreachError("That is before the school became aware.", field="families_told_at")
        if at > (now or utcnow()) + timedelta(minutes=5):
            raise BreachError("That time is in the future.", field="families_told_at")
        breach.families_told_at = at
        log_event(
            "breach.families_told",
            actor,
            subject=f"breach:{breach.id}",
            organisation_id=breach.organisation_id,
        )
    return breach


def _locked(breach_id: int, actor: User) -> Breach:
    """The breach, locked for this transaction; another school's answers as not found."""
    breach = db.session.get(Breach, breach_id, with_for_update=True, populate_existing=True)
    if breach is None or not is_office(actor, breach.organisation_id):
        raise BreachError("That breach was not found.", status=404)
    return breach


# --- reminders -------------------------------------------------------------------------------


def dpo_user_ids(organisation_id: int) -> list[int]:
    """Active DPO accounts of the school and of its trust."""
    return staff_user_ids(organisation_id, {Role.DPO})


def send_reminders(now: datetime | None = None) -> int:
    """Remind the DPO of every undecided breach that has passed 24, 48 or 66 hours since
    awareness and not yet had that reminder. One transaction; the breaches are locked (others
    running at the same moment skip them), so each reminder goes exactly once. When several
    thresholds passed unseen (the job was down), only the latest is sent. Returns how many
    breaches were reminded about."""
    now = now or utcnow()
    first = timedelta(hours=REMINDER_HOURS[0])
    with transaction():
        rows = db.session.scalars(
            sa.select(Breach)
            .where(
                Breach.decision == D.PENDING,
                Breach.reminders_sent < len(REMINDER_HOURS),
                Breach.aware_at <= now - first,
            )
            .order_by(Breach.id)
            .with_for_update(skip_locked=True)
        ).all()
        sent = 0
        for breach in rows:
            due = sum(1 for h in REMINDER_HOURS if now >= breach.aware_at + timedelta(hours=h))
            if due <= breach.reminders_sent:
                continue
            breach.reminders_sent = due
            _remind(breach, REMINDER_HOURS[due - 1], now)
            sent += 1
    return sent


def _remind(breach: Breach, hours: int, now: datetime) -> None:
    org = db.session.get_one(Organisation, breach.organisation_id)
    due = deadline(breach)
    local_due = due.astimezone(zone(org))
    context: dict[str, Any] = {
        "breach_id": breach.id,
        "title": breach.title,
        "hours": hours,
        "hours_left": max(0, math.floor((due - now).total_seconds() / 3600)),
        "deadline_text": f"{local_due:%A} {local_due.day} {local_due:%B %Y at %H:%M}",
        "school": org.name,
    }
    user_ids = dpo_user_ids(org.id)
    notifications.notify(
        "breach_reminder",
        event_key=f"breach:{breach.id}:{hours}h",
        user_ids=user_ids,
        organisation_id=org.id,
        context=context,
    )
    emails = {e.lower() for e in db.session.scalars(sa.select(User.email).where(User.id.in_(user_ids))) if e}
    if org.dpo_email and org.dpo_email.lower() not in emails:
        notifications.send_now(
            Channel.EMAIL, org.dpo_email, "breach_reminder", user=None, organisation=org, **context
        )
