"""Data-protection requests: the workflow on the P27 clock (the write side).

Every public function here is one transaction: it commits on success, and on a
:class:`RequestError` it rolls back and raises, so nothing is half-saved. Routes turn a
``RequestError`` into ``error.status`` with ``error.message`` shown to the person.

States: received → identity_check → in_progress ⇄ paused → completed | refused | withdrawn
(received may go straight to in_progress when no identity check is needed). An extension is not
a state: it is recorded as an event on an in-progress or paused request. Every change appends a
:class:`RequestEvent` (who, when, from → to, note) and recomputes ``due_on``.

New requests come in through :mod:`app.dataprotection.requests.intake` (web, office, public form); the
office dashboard and the daily reminder read from :mod:`app.dataprotection.requests.dashboard`.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from app.core import transactions
from app.core.authz import is_office
from app.core.errors import ServiceError
from app.core.extensions import db
from app.core.i18n import DEFAULT as DEFAULT_LANGUAGE
from app.dataprotection.requests import deadlines
from app.messaging import notify as notifications
from app.models import (
    OPEN_STATES,
    Channel,
    Organisation,
    PrivacyRequest,
    RequestChannel,
    RequestEvent,
    RequestKind,
    RequestState,
    User,
    utcnow,
)

S = RequestState
OPEN = tuple(RequestState(s) for s in OPEN_STATES)
OFFICE_CHANNELS = (
    RequestChannel.PHONE,
    RequestChannel.LETTER,
    RequestChannel.EMAIL,
    RequestChannel.IN_PERSON,
)

# to-state: the states it may be reached from
_FROM = {
    S.IDENTITY_CHECK: {S.RECEIVED},
    S.IN_PROGRESS: {S.RECEIVED, S.IDENTITY_CHECK, S.PAUSED},
    S.PAUSED: {S.IN_PROGRESS},
    S.COMPLETED: {S.IN_PROGRESS},
    S.REFUSED: set(OPEN),
    S.WITHDRAWN: set(OPEN),
}
_LABEL = {
    S.RECEIVED: "received",
    S.IDENTITY_CHECK: "checking identity",
    S.IN_PROGRESS: "in progress",
    S.PAUSED: "paused for clarification",
    S.COMPLETED: "completed",
    S.REFUSED: "refused",
    S.WITHDRAWN: "withdrawn",
}


class RequestError(ServiceError):
    """A change that cannot be made. ``message`` is for the person; ``status`` the HTTP code."""

    default_status = 409


def local_today(organisation: Organisation | None = None) -> date:
    """Today's date where the school is (Europe/London unless the school says otherwise)."""
    tz = ZoneInfo(organisation.timezone if organisation else "Europe/London")
    return datetime.now(tz).date()


# --- workflow --------------------------------------------------------------------------------


def transition(
    request_id: int, to, *, actor: User, note: str | None = None, on: date | None = None
) -> PrivacyRequest:
    """Move a request to state ``to``, recording who, when and why.

    ``on`` is the day it happened (default today) for the identity check (the clock's new
    start), a pause and a resumption. Refusing needs a reason in ``note``.
    """
    with transaction():
        to = _state(to)
        req = locked(request_id)
        org = db.session.get(Organisation, req.organisation_id)
        withdrawing_own = to is S.WITHDRAWN and actor.id == req.requester_id
        if not withdrawing_own and not is_office(actor, req.organisation_id):
            raise RequestError("Only the school office can change this request.", status=403)
        if req.channel is RequestChannel.PUBLIC_FORM and req.confirmed_at is None:
            raise RequestError("This request is waiting for the requester to confirm their email address.")
        if req.state not in _FROM.get(to, ()):
            raise RequestError(f"A request that is {_LABEL[req.state]} cannot be {_LABEL[to]} now.")
        today = local_today(org)
        on = on or today
        note = (note or "").strip() or None
        if on > today:
            raise RequestError("That day is in the future.", status=422, field="on")
        if on < req.received_on:
            raise RequestError("That day is before the request arrived.", status=422, field="on")
        if to is S.REFUSED and not note:
            raise RequestError(
                "Give the reason for refusing; the requester is told it.", status=422, field="note"
            )
        if to is S.PAUSED:
            if on < _start(req):
                raise RequestError(
                    f"The clock started on {_start(req):%-d %B %Y}: a pause "
                    "cannot start before the clock started.",
                    status=422,
                    field="on",
                )
            req.paused_since = on
        elif req.state is S.PAUSED and to is not S.PAUSED:
            since = req.paused_since or on  # set whenever the state is PAUSED
            if on < since:
                raise RequestError("A request cannot resume before it was paused.", status=422, field="on")
            req.paused_days += deadlines.pause_days(since, on)
            req.paused_since = None
        if req.state is S.IDENTITY_CHECK and to is S.IN_PROGRESS:
            req.identity_checked_on = on
        if to in (S.COMPLETED, S.REFUSED, S.WITHDRAWN):
            req.closed_at = utcnow()
            req.outcome = note
        record_event(req, actor, req.state, to, note)
        if to is S.COMPLETED:
            tell_requester(req, "request_completed", "completed", outcome=note or "")
        elif to is S.REFUSED:
            tell_requester(req, "request_refused", "refused", reason=note)
    return req


def extend(request_id: int, *, actor: User, months: int, reason: str) -> PrivacyRequest:
    """Extend a complex request by one or two months (two in all), before the first deadline
    has passed; the requester is told why."""
    with transaction():
        req = locked(request_id)
        org = db.session.get(Organisation, req.organisation_id)
        if not is_office(actor, req.organisation_id):
            raise RequestError("Only the school office can extend this request.", status=403)
        if req.state not in (S.IN_PROGRESS, S.PAUSED):
            raise RequestError(f"A request that is {_LABEL[req.state]} cannot be extended.")
        reason = (reason or "").strip()
        if not reason:
            raise RequestError(
                "Give the reason for the extension; the requester is told it.", status=422, field="reason"
            )
        if months not in (1, 2) or req.extension_months + months > deadlines.MAX_EXTENSION_MONTHS:
            raise RequestError(
                "A request can be extended by two months at most in all.", status=422, field="months"
            )
        today = local_today(org)
        if not deadlines.can_extend(_start(req), today, paused_days=_paused_until(req, today)):
            raise RequestError("The first deadline has passed, so the request can no longer be extended.")
        req.extension_months += months
        req.extension_reason = "\n".join(filter(None, (req.extension_reason, reason)))
        record_event(
            req,
            actor,
            req.state,
            req.state,
            f"Extended by {months} month{'s' if months > 1 else ''}: {reason}",
        )
        tell_requester(
            req,
            "request_extended",
            f"extended:{req.extension_months}",
            reason=reason,
            months=req.extension_months,
        )
    return req


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def transaction():
    """:func:`app.core.transactions.transaction`, where the unique index of open requests
    becomes the same clear refusal as the service's own check."""
    try:
        with transactions.transaction():
            yield
    except IntegrityError as error:
        if "uq_privacy_requests_open" in str(error.orig):
            raise _duplicate() from error
        raise


def _duplicate() -> RequestError:
    return RequestError(
        gettext("There is already an open request of this kind for this person; the school is working on it.")
    )


def add_request(
    org,
    *,
    kind,
    channel,
    requester,
    name,
    email,
    pupil_id,
    on_behalf_of,
    details,
    received_on,
    actor,
    note,
    confirmed=True,
    language=None,
) -> PrivacyRequest:
    """Add a new request (state received) with its first event, after refusing a duplicate.
    For the intake functions; the caller's :func:`transaction` commits. ``language``: the one
    its messages are written in (else the requester's own, else English)."""
    name = (name or "").strip()
    if not name:
        raise RequestError("Give the requester's name.", status=422, field="requester_name")
    refuse_duplicate(org.id, email, pupil_id, kind, requester_id=getattr(requester, "id", None))
    req = PrivacyRequest(
        organisation_id=org.id,
        kind=kind,
        state=S.RECEIVED,
        channel=channel,
        requester_id=getattr(requester, "id", None),
        requester_name=name[:120],
        requester_email=email,
        subject_pupil_id=pupil_id,
        on_behalf_of=on_behalf_of,
        details=(details or "").strip(),
        received_on=received_on,
        paused_days=0,
        extension_months=0,
        confirmed_at=utcnow() if confirmed else None,
        created_by_id=getattr(actor, "id", None),
        language=language or getattr(requester, "language", None),
    )
    db.session.add(req)
    record_event(req, actor, None, S.RECEIVED, note)
    if not confirmed:
        req.due_on = None
    try:
        db.session.flush()
    except IntegrityError as error:
        raise _duplicate() from error
    return req


def refuse_duplicate(
    org_id: int,
    email: str | None,
    pupil_id: int | None,
    kind: RequestKind,
    *,
    requester_id: int | None = None,
    exclude_id: int | None = None,
) -> None:
    """One open request per person, subject and kind: the person is the email address, or the
    account when there is none (a parent with only a mobile); a letter with neither is not
    checked. The unique indexes cannot see two requests about oneself (NULL subjects are
    distinct), so this check, serialised by an advisory lock, covers them. A
    public-form request not yet confirmed does not count (it is checked again when confirmed)."""
    if not email and requester_id is None:
        return
    person = email or f"user:{requester_id}"
    same_person = (
        sa.func.lower(PrivacyRequest.requester_email) == email
        if email
        else sa.and_(PrivacyRequest.requester_email.is_(None), PrivacyRequest.requester_id == requester_id)
    )
    key = f"privacy-request:{org_id}:{person}:{pupil_id}:{kind.value}"
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))
    found = db.session.scalar(
        sa.select(PrivacyRequest.id)
        .where(
            PrivacyRequest.organisation_id == org_id,
            same_person,
            PrivacyRequest.subject_pupil_id.is_not_distinct_from(pupil_id),
            PrivacyRequest.kind == kind,
            PrivacyRequest.state.in_(OPEN),
            PrivacyRequest.id != (exclude_id or 0),
            sa.or_(
                PrivacyRequest.confirmed_at.is_not(None), PrivacyRequest.channel != RequestChannel.PUBLIC_FORM
            ),
        )
        .limit(1)
    )
    if found is not None:
        raise _duplicate()


def record_event(req: PrivacyRequest, actor, from_state, to_state, note) -> None:
    """Set the state, recompute ``due_on`` and append the audit-trail event (who, from, to)."""
    req.state = to_state
    if req.confirmed_at is not None or req.channel is not RequestChannel.PUBLIC_FORM:
        req.due_on = deadlines.due_date(
            _start(req), paused_days=req.paused_days, extension_months=req.extension_months
        )
    req.events.append(
        RequestEvent(
            actor_id=getattr(actor, "id", None),
            from_state=getattr(from_state, "value", None),
            to_state=to_state.value,
            note=note,
            at=utcnow(),
        )
    )


def _start(req: PrivacyRequest) -> date:
    return deadlines.clock_start(req.received_on, req.identity_checked_on)


def _paused_until(req: PrivacyRequest, today: date) -> int:
    """Paused days so far, counting a pause still running up to ``today``."""
    running = deadlines.pause_days(req.paused_since, today) if req.paused_since else 0
    return req.paused_days + running


def locked(request_id: int) -> PrivacyRequest:
    """The request, freshly read and locked (SELECT ... FOR UPDATE) for this transaction."""
    req = db.session.get(PrivacyRequest, request_id, with_for_update=True, populate_existing=True)
    if req is None:
        raise RequestError("That request was not found.", status=404)
    return req


def office_organisation(staff: User, organisation_id: int) -> Organisation:
    """The school, when ``staff`` works in its office (or is its DPO); else a 403 refusal."""
    org = db.session.get(Organisation, organisation_id)
    if org is None or not is_office(staff, organisation_id):
        raise RequestError("Only the school office can log a request for this school.", status=403)
    return org


def tell_requester(req: PrivacyRequest, template: str, event: str, **context) -> None:
    """Tell the requester: through the notification service when they have an account,
    otherwise by email to the address they gave (send_now, added to this transaction); nobody is
    emailed when there is neither (a letter with only a postal address: answered by post)."""
    context = {
        "request_id": req.id,
        "kind": req.kind.value,
        "on_behalf_of": req.on_behalf_of,
        "received_on": req.received_on.isoformat(),
        "due_on": req.due_on.isoformat() if req.due_on else None,
        **context,
    }
    notify = getattr(notifications, "notify", None)
    if req.requester_id is not None and notify is not None:
        notify(
            template,
            event_key=f"privacy-request:{req.id}:{event}",
            user_ids=[req.requester_id],
            organisation_id=req.organisation_id,
            context=context,
        )
    elif req.requester_email:
        notifications.send_now(
            Channel.EMAIL,
            req.requester_email,
            template,
            language=req.language or DEFAULT_LANGUAGE,
            user=None,
            organisation=db.session.get(Organisation, req.organisation_id),
            requester_name=req.requester_name,
            **context,
        )


def _enum(cls, value, message: str, field: str | None):
    try:
        return value if isinstance(value, cls) else cls(value)
    except ValueError:
        raise RequestError(message, status=422, field=field) from None


def parse_kind(value) -> RequestKind:
    """A :class:`RequestKind` from a form value, or a 422 refusal."""
    return _enum(RequestKind, value, "Choose what kind of request this is.", "kind")


def parse_channel(value) -> RequestChannel:
    """A :class:`RequestChannel` from a form value, or a 422 refusal."""
    return _enum(RequestChannel, value, "Choose how the request arrived.", "channel")


def _state(value) -> RequestState:
    return _enum(RequestState, value, "That is not a step of a request.", None)


def parse_email(value: str) -> str:
    """The address trimmed and lower-cased (so one person is one key), or a 422 refusal."""
    email = (value or "").strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise RequestError(
            gettext("Give an email address we can reply to."), status=422, field="requester_email"
        )
    return email


def token_hash(token: str) -> str:
    """Only the hash of an emailed link's secret is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
