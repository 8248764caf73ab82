"""Restriction and objection (P25): flags with a record, and their effect.

The office sets or lifts a restriction on a child or a parent, or a parent's objection; each
change is written to the activity log (and to the request's trail when done under a request).
The effect is everywhere the person could be used:

- messages: the delivery policy (:mod:`app.messaging.policy`) suppresses messages to
  restricted or objecting people and about restricted children;
- reports: :func:`reportable_pupils` / :func:`pupil_reportable` / :func:`parent_reportable` for
  every aggregate the office or teachers see;
- publishing: :func:`promotable_contributions` is the only list of items that may be used to
  promote the school.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.core.audit import log_event
from app.core.authz import is_office
from app.core.errors import ServiceError
from app.core.extensions import db
from app.models import (
    Contribution,
    Engagement,
    Guardianship,
    PrivacyRequest,
    Pupil,
    RequestKind,
    RequestState,
    User,
    UserKind,
    UserStatus,
    utcnow,
)
from app.models.reportable import parent_reportable, pupil_reportable  # noqa: F401 - for callers

FLAGS = {"restriction": "restricted_at", "objection": "objected_at"}
EVENTS = {
    ("restriction", True): "restricted",
    ("restriction", False): "restriction_lifted",
    ("objection", True): "objected",
    ("objection", False): "objection_lifted",
}
REQUEST_KINDS = {"restriction": RequestKind.RESTRICTION, "objection": RequestKind.OBJECTION}
_OPEN = (RequestState.RECEIVED, RequestState.IDENTITY_CHECK, RequestState.IN_PROGRESS, RequestState.PAUSED)


class RestrictionError(ServiceError):
    """A change that cannot be made; ``message`` is for the office."""

    default_status = 422


def schools_of(subject) -> set[int]:
    """The schools a child attends, or whose children a parent is linked to."""
    if isinstance(subject, Pupil):
        return {subject.organisation_id}
    return set(
        db.session.scalars(
            sa.select(Pupil.organisation_id)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.parent_id == subject.id)
        )
    )


def locked_request(
    subject, actor: User, request_id: int, error: type[ServiceError] = RestrictionError
) -> tuple[PrivacyRequest, bool]:
    """The request a change to ``subject`` is made under, locked for this transaction, and
    whether it is about ``subject``; one the actor's schools do not hold is a 404 ``error``.
    Which kinds and states of request may be used is each caller's own rule."""
    req = db.session.get(PrivacyRequest, request_id, with_for_update=True)
    if req is None or not is_office(actor, req.organisation_id):
        raise error("That request was not found.", 404)
    return req, (
        req.subject_pupil_id == subject.id
        if isinstance(subject, Pupil)
        else req.subject_pupil_id is None and req.requester_id == subject.id
    )


def request_for(subject, actor: User, request_id: int | None, kinds) -> PrivacyRequest | None:
    """The open request (of one of ``kinds``, about ``subject``) a change is made under."""
    if request_id is None:
        return None
    req, about = locked_request(subject, actor, request_id)
    if req.kind not in kinds or not about or req.state not in _OPEN:
        raise RestrictionError("Choose an open request of this kind about this person.")
    return req


def set_flag(
    subject, kind: str, on: bool, actor: User, *, request_id: int | None = None, note: str = ""
) -> bool:
    """Set (``on``) or lift a restriction or objection, with a record; one transaction.
    Returns False when it was already so (nothing recorded)."""
    try:
        if kind not in FLAGS or (isinstance(subject, Pupil) and kind != "restriction"):
            raise RestrictionError("A child's record can be restricted; only a parent can object.")
        if isinstance(subject, User) and subject.kind is not UserKind.PARENT:
            raise RestrictionError("Only a parent's account can be restricted here.")
        schools = schools_of(subject)
        if not schools or not any(is_office(actor, org) for org in schools):
            raise RestrictionError("That record was not found.", 404)
        req = request_for(subject, actor, request_id, {REQUEST_KINDS[kind]})
        column = FLAGS[kind]
        row = db.session.get(type(subject), subject.id, with_for_update=True, populate_existing=True)
        if bool(getattr(row, column)) == on:
            db.session.rollback()
            return False
        setattr(row, column, utcnow() if on else None)
        label = "child's record" if isinstance(subject, Pupil) else "parent's account"
        what = f"{kind.capitalize()} {'set on' if on else 'lifted from'} the {label}"
        what += f": {note.strip()[:150]}" if note.strip() else "."
        kind_word = "pupil" if isinstance(subject, Pupil) else "user"
        log_event(
            EVENTS[(kind, on)],
            actor,
            subject=f"{kind_word}:{subject.id}",
            detail=what[:200],
            organisation_id=req.organisation_id if req else min(o for o in schools if is_office(actor, o)),
        )
        if req is not None:
            from app.dataprotection.requests.workflow import record_event

            record_event(req, actor, req.state, req.state, what)
        db.session.commit()
        return True
    except BaseException:
        db.session.rollback()
        raise


# --- the effect: reports and publishing -------------------------------------------------------


def reportable_pupils(organisation_id: int) -> sa.Select:
    """The school's pupils that reports and aggregates may count."""
    return sa.select(Pupil).where(Pupil.organisation_id == organisation_id, pupil_reportable())


def promotable_contributions(organisation_id: int | None = None) -> sa.Select:
    """The only photos and comments that may be used to promote a school: opted in for this item
    and not withdrawn, never marked never-use-again, not hidden, from a carer without a
    restriction, objection or closed account, about a child neither restricted nor erased."""
    author = aliased(User)
    query = (
        sa.select(Contribution)
        .join(Engagement, Engagement.id == Contribution.engagement_id)
        .join(Pupil, Pupil.id == Engagement.pupil_id)
        .join(author, author.id == Contribution.author_id)
        .where(
            Contribution.promo_opt_in.is_(True),
            Contribution.promo_withdrawn_at.is_(None),
            Contribution.never_use_again.is_(False),
            Contribution.hidden_at.is_(None),
            Pupil.restricted_at.is_(None),
            Pupil.erased_at.is_(None),
            author.restricted_at.is_(None),
            author.objected_at.is_(None),
            author.status == UserStatus.ACTIVE,
        )
    )
    if organisation_id is not None:
        query = query.where(Pupil.organisation_id == organisation_id)
    return query.order_by(Contribution.id)
