"""Inviting staff (P12): an invitation grants nothing until the person it was sent to accepts it.

- A new address gets a new staff account (status invited, no password). Following the link, the
  person chooses a password; only then is the role at the school written (and two-step sign-in is
  set up next, as for every member of staff).
- An address that already has an account with a password is a *request* to that account: the
  link never sets a password. The holder signs in with their own password and second factor and
  then accepts or declines ("School X invites you as office"); only accepting writes the role.
- A parent's or carer's address is refused: a family account never silently becomes staff.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa

from app.auth.passwords import hash_password
from app.core.audit import log_event
from app.core.direct_reads import DirectRead
from app.core.errors import FieldError, ServiceError
from app.core.extensions import db
from app.core.transactions import transaction
from app.families import invitations
from app.models import (
    Guardianship,
    Invitation,
    InvitationStatus,
    Organisation,
    Pupil,
    Role,
    StaffMembership,
    User,
    UserKind,
    UserStatus,
    one_of,
    utcnow,
)

ROLE_WORDS = {
    "teacher": "a teacher",
    "office": "a member of the school office",
    "dpo": "the data protection officer",
}


class StaffInvitationError(ServiceError):
    """An invitation that cannot be sent or answered; ``message`` is for the person."""

    default_status = 422


def is_new_account(user: User) -> bool:
    """An account made by an invitation that nobody has taken up yet (no password set)."""
    return user.status is UserStatus.INVITED and not user.password_hash


def _family_here(user: User, organisation_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Guardianship.id)
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(Guardianship.parent_id == user.id, Pupil.organisation_id == organisation_id)
            .limit(1)
        )
        is not None
    )


def invite(organisation_id: int, name: str, email: str, role: str, actor: User) -> User:
    """Send a staff invitation for ``role`` at the school: a new account for a new address, a
    request to the holder for an existing staff account. No role is written here."""
    with transaction():
        email = (email or "").strip().lower()
        try:
            wanted = Role(role)
        except ValueError:
            raise FieldError("role", "Choose a role.") from None
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
        if user is not None and user.kind is not UserKind.STAFF:
            # Say "parent" only about this school's own families: for anyone else's, the office
            # learns no more than that the address cannot be used.
            raise FieldError(
                "email",
                (
                    "That email address belongs to a parent's account at this school, and a family "
                    "account cannot become a staff account. Please use the person's school address."
                    if _family_here(user, organisation_id)
                    else "That email address cannot be used for a staff account. Please use the person's "
                    "school address."
                ),
            )
        if user is not None and user.status in (UserStatus.DEACTIVATED, UserStatus.ERASED):
            raise FieldError(
                "email",
                "That email address cannot be used for a staff account. "
                "Please use the person's school address.",
            )
        if (
            user is not None
            and db.session.scalar(
                sa.select(StaffMembership.id).where(
                    StaffMembership.user_id == user.id,
                    StaffMembership.organisation_id == organisation_id,
                    StaffMembership.role == wanted,
                )
            )
            is not None
        ):
            raise FieldError("email", "That person already has this role at the school.")
        if user is None:
            user = User(
                kind=UserKind.STAFF, name=(name or "").strip(), email=email, status=UserStatus.INVITED
            )
            db.session.add(user)
            db.session.flush()
        invitations.invite(organisation_id, user, created_by_id=actor.id, role=wanted.value)
        log_event(
            "staff_invited",
            actor,
            subject=f"user:{user.id}",
            detail=wanted.value,
            organisation_id=organisation_id,
        )
    return user


class StaffListed(NamedTuple):
    """A member of staff as the staff page lists them: one row per role held at the school."""

    name: str
    email: str | None
    role: Role
    status: UserStatus


class Waiting(NamedTuple):
    """A staff invitation not answered yet, as the staff page lists it."""

    email: str | None
    role: str
    sent_at: datetime | None
    expires_at: datetime


def staff_list(organisation_id: int) -> list[StaffListed]:
    """Everyone holding a role at the school, by name, for the staff page."""
    return [StaffListed._make(row) for row in _staff_read().run({"organisation_id": organisation_id})]


def waiting(organisation_id: int) -> list[Waiting]:
    """The school's staff invitations not answered yet (newest first) and the address each was
    sent to, for the staff page."""
    params = {"organisation_id": organisation_id, "now": utcnow()}
    return [Waiting._make(row) for row in _waiting_read().run(params)]


@cache
def _staff_read() -> DirectRead:
    """``staff_list``'s statement, compiled once per process."""
    return DirectRead(
        sa.select(User.name, User.email, StaffMembership.role, User.status)
        .join(StaffMembership, StaffMembership.user_id == User.id)
        .where(StaffMembership.organisation_id == sa.bindparam("organisation_id", type_=sa.Integer))
        .order_by(User.name)
    )


@cache
def _waiting_read() -> DirectRead:
    """``waiting``'s statement, compiled once per process."""
    return DirectRead(
        sa.select(User.email, Invitation.role, Invitation.sent_at, Invitation.expires_at)
        .select_from(Invitation)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(
            Invitation.organisation_id == sa.bindparam("organisation_id", type_=sa.Integer),
            Invitation.role.is_not(None),
            one_of(Invitation.status, invitations.OPEN),
            Invitation.expires_at > sa.bindparam("now", type_=Invitation.expires_at.type),
        )
        .order_by(Invitation.id.desc())
    )


def _grant(invitation: Invitation, user: User) -> None:
    """Write the role the invitation offered (once) and mark the invitation accepted."""
    role = Role(invitation.role)
    if (
        db.session.scalar(
            sa.select(StaffMembership.id).where(
                StaffMembership.user_id == user.id,
                StaffMembership.organisation_id == invitation.organisation_id,
                StaffMembership.role == role,
            )
        )
        is None
    ):
        db.session.add(
            StaffMembership(user_id=user.id, organisation_id=invitation.organisation_id, role=role)
        )
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = utcnow()


def _locked(invitation_id: int) -> tuple[Invitation, User]:
    invitation = db.session.get(Invitation, invitation_id, with_for_update=True, populate_existing=True)
    if invitation is None or invitation.status not in invitations.OPEN:
        raise StaffInvitationError("This invitation has already been answered or replaced.", 410)
    user = db.session.get_one(User, invitation.user_id, with_for_update=True, populate_existing=True)
    return invitation, user


def join_new(invitation_id: int, password: str) -> User:
    """A new account takes up its invitation: sets its password and gets the role. Refused for
    an account that already has a password (the link is then only a request to its holder)."""
    with transaction():
        invitation, user = _locked(invitation_id)
        if not is_new_account(user):
            raise StaffInvitationError("Please sign in to answer this invitation.", 409)
        user.password_hash = hash_password(password)
        user.status = UserStatus.ACTIVE
        _grant(invitation, user)
        log_event("joined", user, detail=invitation.role, organisation_id=invitation.organisation_id)
    return user


def answer(invitation_id: int, user: User, *, accept: bool) -> Invitation:
    """The signed-in holder (password and second factor) accepts or declines an invitation sent
    to their existing account; only accepting writes the role."""
    with transaction():
        invitation, holder = _locked(invitation_id)
        if holder is None or holder.id != user.id:
            raise StaffInvitationError("This invitation was sent to another account.", 403)
        if not holder.mfa_enabled_at:
            raise StaffInvitationError("Set up two-step sign-in before accepting.", 409)
        if accept:
            _grant(invitation, holder)
        else:
            invitation.status = InvitationStatus.REVOKED
            invitation.revoked_at = utcnow()
        log_event(
            "staff_invitation_accepted" if accept else "staff_invitation_declined",
            holder,
            subject=f"invitation:{invitation.id}",
            detail=invitation.role,
            organisation_id=invitation.organisation_id,
        )
    return invitation


def school_name(invitation: Invitation) -> str:
    return (
        db.session.scalar(sa.select(Organisation.name).where(Organisation.id == invitation.organisation_id))
        or "A school"
    )
