"""Inviting families (and staff) to join: one-time links, printed-letter codes, fan-out.

A link's token and a letter's code are derived from the invitation id with an HMAC under the
app's secret key, so only their hashes are stored and a message can be rendered later (by the
sending job) from the invitation id alone. A resend makes a new invitation and revokes the old.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app.core import bulk
from app.core.extensions import db
from app.models import Guardianship, Invitation, InvitationStatus, Pupil, User, UserKind, UserStatus, utcnow

VALID_DAYS = 30
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to type from paper
OPEN = (InvitationStatus.PENDING, InvitationStatus.SENT, InvitationStatus.FAILED)


class InvitationProblem(Exception):
    """An invitation that cannot be used, with what to do next."""

    def __init__(self, title: str, message: str, status: int = 410):
        super().__init__(message)
        self.title, self.message, self.status = title, message, status


def _mac(purpose: str, invitation_id: int) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{invitation_id}".encode(), hashlib.sha256).digest()


def token_for(invitation_id: int) -> str:
    return base64.urlsafe_b64encode(_mac("invitation", invitation_id)).decode().rstrip("=")


def code_for(invitation_id: int) -> str:
    digest = _mac("letter", invitation_id)
    chars = "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:8])
    return f"{chars[:4]}-{chars[4:]}"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_code(code: str) -> str:
    clean = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{clean[:4]}-{clean[4:]}"


def join_url(invitation_id: int, *, staff: bool = False) -> str:
    """The absolute link that accepts an invitation (a family's, or a member of staff's)."""
    path = "office/staff/join" if staff else "family/join"
    return f"{current_app.config['BASE_URL'].rstrip('/')}/{path}/{token_for(invitation_id)}"


def create(
    organisation_id: int,
    user: User,
    *,
    channels: str = "email",
    created_by_id: int | None = None,
    role: str | None = None,
) -> Invitation:
    """A new invitation for ``user`` to join ``organisation_id``; earlier open ones are revoked.
    Added to the session (the caller commits)."""
    now = utcnow()
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.organisation_id == organisation_id,
            Invitation.status.in_(OPEN),
        )
        .values(status=InvitationStatus.REVOKED, revoked_at=now)
    )
    invitation = Invitation(
        organisation_id=organisation_id,
        user_id=user.id,
        channels=channels,
        created_by_id=created_by_id,
        role=role,
        token_hash="pending",
        expires_at=now + timedelta(days=VALID_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    invitation.token_hash = _hash(token_for(invitation.id))
    invitation.code_hash = _hash(code_for(invitation.id))
    return invitation


def revoke(invitation: Invitation) -> None:
    if invitation.status in OPEN:
        invitation.status = InvitationStatus.REVOKED
        invitation.revoked_at = utcnow()


def _check(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise InvitationProblem(
            gettext("We don't recognise that invitation"),
            gettext(
                "Please check the link or code. If it still doesn't work, ask the school office "
                "for a new invitation."
            ),
            404,
        )
    if invitation.status is InvitationStatus.ACCEPTED:
        raise InvitationProblem(
            gettext("This invitation has already been used"),
            gettext(
                "If you have already joined, please sign in. If not, ask the school office for a new invitation."
            ),
        )
    if invitation.status is InvitationStatus.REVOKED:
        raise InvitationProblem(
            gettext("This invitation has been replaced or cancelled"),
            gettext("Please use the newest invitation you received, or ask the school office for a new one."),
        )
    if invitation.status is InvitationStatus.EXPIRED or invitation.expires_at <= utcnow():
        raise InvitationProblem(
            gettext("This invitation has expired"),
            gettext("Invitations last 30 days. Please ask the school office to send you a new one."),
        )
    user = db.session.get(User, invitation.user_id)
    if user is None or user.status in (UserStatus.DEACTIVATED, UserStatus.ERASED):
        raise InvitationProblem(
            gettext("This invitation can't be used"), gettext("Please contact the school office."), 410
        )
    return invitation


def find_by_token(token: str) -> Invitation:
    """The usable invitation for a link's token, or InvitationProblem."""
    if not token or len(token) > 100:
        return _check(None)
    return _check(db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == _hash(token))))


def find_by_code(code: str) -> Invitation:
    """The usable invitation for a printed letter's code, or InvitationProblem."""
    clean = normalise_code(code or "")
    if len(clean) != 9:
        return _check(None)
    return _check(db.session.scalar(sa.select(Invitation).where(Invitation.code_hash == _hash(clean))))


def children_for(invitation: Invitation) -> list[Pupil]:
    """The children at the inviting school linked to the invited carer."""
    return list(
        db.session.scalars(
            sa.select(Pupil)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(
                Guardianship.parent_id == invitation.user_id,
                Guardianship.removed_at.is_(None),
                Pupil.organisation_id == invitation.organisation_id,
                Pupil.removed_at.is_(None),
            )
            .order_by(Pupil.first_name)
        )
    )


def not_joined(organisation_id: int | sa.BindParameter):
    """A select of the carers at a school who have not joined and may be contacted: invited
    status, at least one live link to a current pupil there, and no no-contact flag on it."""
    live_link = (
        sa.select(Guardianship.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(
            Guardianship.parent_id == User.id,
            Guardianship.removed_at.is_(None),
            Guardianship.no_contact.is_(False),
            Pupil.organisation_id == organisation_id,
            Pupil.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
    )
    return (
        sa.select(User)
        .where(User.kind == UserKind.PARENT, User.status == UserStatus.INVITED, sa.exists(live_link))
        .order_by(User.name, User.id)
    )


def open_invitation_url(user_id: int, organisation_id: int) -> str | None:
    """The link of a carer's newest usable invitation to a school (for message templates)."""
    invitation = db.session.scalar(
        sa.select(Invitation)
        .where(
            Invitation.user_id == user_id,
            Invitation.organisation_id == organisation_id,
            Invitation.status.in_(OPEN),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.id.desc())
        .limit(1)
    )
    return join_url(invitation.id, staff=invitation.role is not None) if invitation else None


def invite(
    organisation_id: int,
    user: User,
    *,
    channels: str = "email",
    created_by_id: int | None = None,
    role: str | None = None,
) -> Invitation:
    """Create an invitation and queue its message (sent after the caller commits)."""
    from app.messaging.notify import notify

    invitation = create(organisation_id, user, channels=channels, created_by_id=created_by_id, role=role)
    invitation.status = InvitationStatus.SENT
    invitation.sent_at = utcnow()
    notify(
        "staff_invitation" if role else "invitation",
        event_key=f"invitation:{invitation.id}",
        user_ids=[user.id],
        organisation_id=organisation_id,
        context={"channels": channels},
    )
    return invitation


def create_many(
    organisation_id: int, user_ids: list[int], *, channels: str, created_by_id: int | None
) -> list[int]:
    """Invitations for many carers at once (set-based), revoking their older open ones."""
    if not user_ids:
        return []
    now = utcnow()
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.user_id.in_(user_ids),
            Invitation.organisation_id == organisation_id,
            Invitation.status.in_(OPEN),
        )
        .values(status=InvitationStatus.REVOKED, revoked_at=now)
    )
    rows = [
        {
            "organisation_id": organisation_id,
            "user_id": uid,
            "channels": channels,
            "created_by_id": created_by_id,
            "token_hash": f"pending:{organisation_id}:{uid}:{now.timestamp()}",
            "status": InvitationStatus.SENT,
            "sent_at": now,
            "created_at": now,
            "expires_at": now + timedelta(days=VALID_DAYS),
        }
        for uid in user_ids
    ]
    # One statement each for the rows and for their hashes (arrays and unnest on PostgreSQL).
    ids = bulk.insert_many(Invitation, rows)
    bulk.update_many(
        Invitation,
        [{"id": i, "token_hash": _hash(token_for(i)), "code_hash": _hash(code_for(i))} for i in ids],
    )
    return ids


def invite_carer(organisation_id: int, carer: User, *, channels: str, created_by_id: int) -> Invitation:
    """The office invites one carer: the invitation and its message. Committed."""
    from app.core.transactions import transaction

    with transaction():
        return invite(organisation_id, carer, channels=channels, created_by_id=created_by_id)


def cancel(invitation: Invitation) -> None:
    """The office cancels an open invitation: its link and code stop working. Committed."""
    from app.core.transactions import transaction

    with transaction():
        revoke(invitation)


def letter_invitations(organisation_id: int, user_ids: list[int], *, created_by_id: int) -> list[int]:
    """Invitations to print as letters, one per carer (older open ones revoked). Committed."""
    from app.core.transactions import transaction

    with transaction():
        return create_many(organisation_id, user_ids, channels="letter", created_by_id=created_by_id)
