"""Families joining and leaving: accepting an invitation with explicit consent (P01, P02),
removing a child (P18), unlinking, and closing an account (P17)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.auth.passwords import hash_password
from app.core import consent
from app.core.audit import log_event
from app.core.authz import carer_ids
from app.core.extensions import db
from app.core.i18n import LANGUAGES
from app.models import (
    ConsentMethod,
    ConsentPurpose,
    Guardianship,
    Invitation,
    InvitationStatus,
    Organisation,
    Pupil,
    RemovedBy,
    User,
    UserStatus,
    utcnow,
)


@dataclass
class JoinChoices:
    agreed: bool
    sms_reminders: bool = False
    promo_photos: bool = False
    news: bool = False
    mobile: str | None = None
    password: str | None = None
    language: str | None = None  # one of app.core.i18n.LANGUAGES: pages and messages from now on


def accept_invitation(invitation: Invitation, choices: JoinChoices) -> User:
    """Turn an invited contact into a member, in one transaction: the required consent with the
    notice version and the school as controller, each optional choice, the sign-in method."""
    if not choices.agreed:
        raise ValueError("the service consent is required")
    user = db.session.get_one(User, invitation.user_id)
    organisation = db.session.get_one(Organisation, invitation.organisation_id)
    children = [
        p.first_name
        for p in db.session.scalars(
            sa.select(Pupil)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(Guardianship.parent_id == user.id, Pupil.organisation_id == organisation.id)
        )
    ]
    on_behalf = "themselves and their child" if len(children) <= 1 else "themselves and their children"
    for purpose, granted in (
        (ConsentPurpose.SERVICE, True),
        (ConsentPurpose.SMS_REMINDERS, choices.sms_reminders),
        (ConsentPurpose.PROMO_PHOTOS, choices.promo_photos),
        (ConsentPurpose.NEWS, choices.news),
    ):
        consent.record(
            user.id,
            purpose,
            granted,
            method=ConsentMethod.INVITATION,
            organisation_id=organisation.id,
            on_behalf_of=on_behalf,
        )
    new = user.status is UserStatus.INVITED  # an account already in use keeps its sign-in
    if choices.mobile and new:
        user.mobile = choices.mobile
    user.sms_notifications = bool(choices.sms_reminders and user.mobile)
    if choices.password and new:
        user.password_hash = hash_password(choices.password)
    now = utcnow()
    if choices.language in LANGUAGES:
        user.language = choices.language
    user.status = UserStatus.ACTIVE
    user.last_active_at = now
    user.details_checked_at = now
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = now
    log_event("joined", user, organisation_id=organisation.id, subject=f"invitation:{invitation.id}")
    db.session.commit()
    return user


def remove_child(pupil: Pupil, actor: User) -> None:
    """The school removes a child (P18). Their data stays visible to the parents."""
    if pupil.removed_at is None:
        pupil.removed_at = utcnow()
        pupil.removed_by_id = actor.id
        log_event("pupil_removed", actor, subject=f"pupil:{pupil.id}", organisation_id=pupil.organisation_id)
    db.session.commit()


def unlink_child(parent: User, pupil: Pupil) -> None:
    """A parent removes their own link to a child."""
    link = db.session.scalar(
        sa.select(Guardianship).where(
            Guardianship.parent_id == parent.id,
            Guardianship.pupil_id == pupil.id,
            Guardianship.removed_at.is_(None),
        )
    )
    if link is not None:
        link.removed_at = utcnow()
        link.removed_by = RemovedBy.PARENT
        link.removed_by_user_id = parent.id
        log_event("link_removed", parent, subject=f"pupil:{pupil.id}")
    db.session.commit()


def close_account(user: User, *, reason: str = "closed_by_parent") -> None:
    """P17: deactivated at once, signed out everywhere, no more messages; deletion of the data
    follows after the school's closed-account period (retention)."""
    if user.status in (UserStatus.DEACTIVATED, UserStatus.ERASED):
        return
    user.status = UserStatus.DEACTIVATED
    user.deactivated_at = utcnow()
    user.deactivation_reason = reason
    user.session_version += 1
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.status.in_([InvitationStatus.PENDING, InvitationStatus.SENT]),
        )
        .values(status=InvitationStatus.REVOKED, revoked_at=utcnow())
    )
    log_event("account_closed", user, detail=reason)
    db.session.commit()


def tell_parents_removed(pupil: Pupil) -> None:
    """Tell a removed child's parents (the office's button). Committed."""
    from app.core.transactions import transaction
    from app.messaging.notify import notify

    with transaction():
        parent_ids = carer_ids(pupil.id)
        notify(
            "child_removed",
            event_key=f"pupil:{pupil.id}:removed",
            user_ids=parent_ids,
            organisation_id=pupil.organisation_id,
            pupil_id=pupil.id,
            context={"pupil_id": pupil.id},
        )
