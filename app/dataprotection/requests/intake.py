"""Intake of data-protection requests: a signed-in parent (for themselves or a linked child,
P28), the office (phone, letter, email, in person, with the day it arrived) and the public form
(counted only once the emailed link is followed).

Each function is one transaction and raises :class:`~app.dataprotection.requests.workflow.RequestError`
with a message for the person when the request cannot be taken (nothing is saved then).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app.core import i18n
from app.core.authz import linked_pupils
from app.core.extensions import db
from app.dataprotection.common.ownership import person_schools
from app.dataprotection.requests.workflow import (
    OFFICE_CHANNELS,
    OPEN,
    RequestError,
    add_request,
    local_today,
    locked,
    office_organisation,
    parse_channel,
    parse_email,
    parse_kind,
    record_event,
    refuse_duplicate,
    tell_requester,
    token_hash,
    transaction,
)
from app.messaging import notify as notifications
from app.models import (
    Channel,
    LoginToken,
    Organisation,
    PrivacyRequest,
    Pupil,
    RequestChannel,
    TokenPurpose,
    User,
    UserKind,
    utcnow,
)

CONFIRM_HOURS = 48
CONFIRM_PATH = "/privacy/requests/confirm/{token}"


def request_as_parent(
    parent: User, *, kind, details: str = "", pupil_id: int | None = None, organisation_id: int | None = None
) -> PrivacyRequest:
    """A signed-in parent's request about themselves or a linked child (P28: recorded as such)."""
    with transaction():
        if parent.kind is not UserKind.PARENT:
            raise RequestError(gettext("Only a parent or carer can make a request here."), status=403)
        kind = parse_kind(kind)
        if pupil_id is not None:
            child = db.session.scalar(linked_pupils(parent).where(Pupil.id == pupil_id))
            if child is None:
                raise RequestError(
                    gettext("You can only make a request about a child linked to your account."),
                    status=404,
                    field="pupil_id",
                )
            organisation_id, on_behalf_of = child.organisation_id, "child"
        else:
            schools = set(db.session.scalars(linked_pupils(parent).with_only_columns(Pupil.organisation_id)))
            if not schools:
                raise RequestError(
                    gettext(
                        "Your account is not linked to a school yet; please use the "
                        "school's public request form."
                    ),
                    status=422,
                )
            if organisation_id is None and len(schools) == 1:
                organisation_id = next(iter(schools))
            if organisation_id not in schools:
                raise RequestError(
                    gettext("Choose the school your request is for."), status=422, field="organisation_id"
                )
            on_behalf_of = "self"
        org = db.session.get(Organisation, organisation_id)
        # A parent with only a mobile gives no address (the one-open-request rule keys them by
        # their account; they are told through the notification service).
        email = (parent.email or "").strip().lower() or None
        req = add_request(
            org,
            kind=kind,
            channel=RequestChannel.WEB,
            requester=parent,
            name=parent.name,
            email=email,
            pupil_id=pupil_id,
            on_behalf_of=on_behalf_of,
            details=details,
            received_on=local_today(org),
            actor=parent,
            note="Made online by the requester.",
        )
        tell_requester(req, "request_received", "received")
    return req


def log_request(
    staff: User,
    organisation_id: int,
    *,
    kind,
    channel,
    requester_name: str,
    requester_email: str,
    received_on: date,
    details: str = "",
    pupil_id: int | None = None,
) -> PrivacyRequest:
    """The office records a request that came by phone, letter, email or in person, with the
    day it arrived (the clock runs from that day, not from when it was typed in). The email
    address may be left blank when the requester gave none (nobody is emailed then); when it
    belongs to an account of this school's people (a family of its pupils, or its staff), the
    request is linked to it. Anyone else's account is never linked (P12): the request is then
    from a person with no account here, answered at the address given."""
    with transaction():
        org = office_organisation(staff, organisation_id)
        kind, channel = parse_kind(kind), parse_channel(channel)
        if channel not in OFFICE_CHANNELS:
            raise RequestError("Choose how the request arrived.", status=422, field="channel")
        if received_on > local_today(org):
            raise RequestError("The day it arrived cannot be in the future.", status=422, field="received_on")
        if (
            pupil_id is not None
            and db.session.scalar(
                sa.select(Pupil.id).where(
                    Pupil.id == pupil_id, Pupil.organisation_id == org.id, Pupil.erased_at.is_(None)
                )
            )
            is None
        ):
            raise RequestError("That pupil is not at this school.", status=404, field="pupil_id")
        if (requester_email or "").strip():
            email = parse_email(requester_email)
            account = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
            if account is not None and org.id not in person_schools(account.id):
                account = None  # not this school's person: a requester with no account here
        else:  # a letter with only a postal address: the office answers by post
            email, account = None, None
        req = add_request(
            org,
            kind=kind,
            channel=channel,
            requester=account,
            name=requester_name,
            email=email,
            pupil_id=pupil_id,
            on_behalf_of="child" if pupil_id is not None else "self",
            details=details,
            received_on=received_on,
            actor=staff,
            note=f"Logged by the office ({channel.value.replace('_', ' ')}).",
        )
        tell_requester(req, "request_received", "received")
    return req


def submit_public_request(
    organisation_id: int,
    *,
    kind,
    requester_name: str,
    requester_email: str,
    details: str = "",
    on_behalf_of: str = "self",
) -> tuple[PrivacyRequest, str]:
    """A request from someone without an account. It counts only once the emailed link is
    followed (:func:`confirm_public_request`); returns the request and the link's secret."""
    with transaction():
        org = db.session.get(Organisation, organisation_id)
        if org is None:
            raise RequestError(gettext("That school was not found."), status=404)
        if on_behalf_of not in ("self", "child"):
            raise RequestError(gettext("Say who the request is about."), status=422, field="on_behalf_of")
        email, kind = parse_email(requester_email), parse_kind(kind)
        # An unconfirmed request never started; a new submission replaces it (and so nobody can
        # block a person's request by typing their address into the form).
        db.session.execute(
            sa.delete(PrivacyRequest).where(
                PrivacyRequest.organisation_id == org.id,
                sa.func.lower(PrivacyRequest.requester_email) == email,
                PrivacyRequest.kind == kind,
                PrivacyRequest.subject_pupil_id.is_(None),
                PrivacyRequest.channel == RequestChannel.PUBLIC_FORM,
                PrivacyRequest.confirmed_at.is_(None),
                PrivacyRequest.state.in_(OPEN),
            )
        )
        req = add_request(
            org,
            kind=kind,
            channel=RequestChannel.PUBLIC_FORM,
            requester=None,
            name=requester_name,
            email=email,
            pupil_id=None,
            on_behalf_of=on_behalf_of,
            details=details,
            received_on=local_today(org),
            actor=None,
            note="Sent with the public form; waiting for the email to be confirmed.",
            confirmed=False,
            language=i18n.current().code,
        )
        token = secrets.token_urlsafe(32)
        db.session.add(
            LoginToken(
                purpose=TokenPurpose.EMAIL_CONFIRM,
                token_hash=token_hash(token),
                expires_at=utcnow() + timedelta(hours=CONFIRM_HOURS),
                payload={"privacy_request_id": req.id},
            )
        )
        notifications.send_now(
            Channel.EMAIL,
            email,
            "request_confirm",
            language=req.language,
            organisation=org,
            user=None,
            requester_name=requester_name,
            kind=kind.value,
            hours=CONFIRM_HOURS,
            confirm_url=current_app.config["BASE_URL"].rstrip("/") + CONFIRM_PATH.format(token=token),
        )
    return req, token


def confirm_public_request(token: str) -> PrivacyRequest:
    """Follow the emailed link: the request now counts as received today and its clock runs."""
    with transaction():
        row = db.session.scalar(
            sa.select(LoginToken)
            .where(
                LoginToken.token_hash == token_hash(token or ""),
                LoginToken.purpose == TokenPurpose.EMAIL_CONFIRM,
            )
            .with_for_update()
        )
        req_id = (row.payload or {}).get("privacy_request_id") if row else None
        if row is None or req_id is None or row.used_at is not None:
            raise RequestError(gettext("This link is not valid or has already been used."), status=404)
        if row.expires_at < utcnow():
            raise RequestError(gettext("This link has expired. Please send the form again."), status=410)
        req = locked(req_id)
        row.used_at = utcnow()
        req.confirmed_at = utcnow()
        req.received_on = local_today(db.session.get(Organisation, req.organisation_id))
        refuse_duplicate(req.organisation_id, req.requester_email, None, req.kind, exclude_id=req.id)
        record_event(req, None, req.state, req.state, "The requester confirmed their email.")
        tell_requester(req, "request_received", "received")
    return req
