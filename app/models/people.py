"""Accounts: everyone who can sign in (staff and parents/carers), their roles and sign-in secrets."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, time

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import Base
from app.models.types import UTCDateTime, enum_column, utcnow


class UserKind(enum.Enum):
    STAFF = "staff"
    PARENT = "parent"


class UserStatus(enum.Enum):
    INVITED = "invited"  # a contact from a roster who has not joined yet
    ACTIVE = "active"
    DEACTIVATED = "deactivated"  # closed by the parent (P17) or for inactivity (P19): no messages
    ERASED = "erased"  # personal fields removed; the row remains only for non-identifying figures


class Role(enum.Enum):
    TEACHER = "teacher"
    OFFICE = "office"
    DPO = "dpo"


class TokenPurpose(enum.Enum):
    SIGNIN_LINK = "signin_link"
    SMS_CODE = "sms_code"
    PASSWORD_RESET = "password_reset"
    EMAIL_CONFIRM = "email_confirm"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("mobile IS NULL OR mobile LIKE '+%'", name="mobile_e164"),
        sa.CheckConstraint("session_version >= 1", name="session_version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UserKind] = mapped_column(enum_column(UserKind, "user_kind"))
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(sa.String(16))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))  # encrypted at rest
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[UserStatus] = mapped_column(
        enum_column(UserStatus, "user_status"), default=UserStatus.ACTIVE
    )
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivation_reason: Mapped[str | None] = mapped_column(sa.String(40))
    closure_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # P10 yearly
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # P25 restriction
    objected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # P25 objection
    # Notification preferences (the consent for optional messages lives in consent_records).
    email_notifications: Mapped[bool] = mapped_column(default=True)
    sms_notifications: Mapped[bool] = mapped_column(default=False)
    weekly_digest: Mapped[bool] = mapped_column(default=False)
    quiet_from: Mapped[time | None] = mapped_column(sa.Time)
    quiet_until: Mapped[time | None] = mapped_column(sa.Time)
    language: Mapped[str | None] = mapped_column(sa.String(10))  # app/core/i18n.py; None: the browser's

    memberships: Mapped[list[StaffMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The secret of this browser's sign-in (a UserSession), set when signing in or by the user
    # loader; not a column.
    session_secret = None  # type: str | None

    def get_id(self) -> str:
        # The version makes "sign out everywhere" end every session and remember-me cookie; the
        # secret names this browser's sign-in, which signing out here ends on the server.
        return f"{self.id}:{self.session_version}:{self.session_secret or ''}"

    @property
    def is_active(self) -> bool:
        return self.status in (UserStatus.ACTIVE, UserStatus.INVITED)

    @property
    def is_staff(self) -> bool:
        return self.kind is UserKind.STAFF

    @property
    def is_parent(self) -> bool:
        return self.kind is UserKind.PARENT

    @property
    def can_be_messaged(self) -> bool:
        return self.status in (UserStatus.ACTIVE, UserStatus.INVITED) and not (
            self.restricted_at or self.objected_at
        )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.kind.value}>"


class StaffMembership(Base):
    """A role of a staff member at a school, or (for a DPO) across a trust."""

    __tablename__ = "staff_memberships"
    __table_args__ = (
        sa.CheckConstraint("(organisation_id IS NULL) <> (trust_id IS NULL)", name="one_scope"),
        sa.CheckConstraint("trust_id IS NULL OR role = 'dpo'", name="trust_only_dpo"),
        sa.UniqueConstraint("user_id", "organisation_id", "trust_id", "role", name="one_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    trust_id: Mapped[int | None] = mapped_column(sa.ForeignKey("trusts.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(enum_column(Role, "staff_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")


class RecoveryCode(Base):
    """A single-use MFA recovery code; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginToken(Base):
    """A one-time sign-in link, SMS code, password reset or email confirmation (hash only)."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    payload: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """One sign-in on one browser: its secret travels in the session and the remember-me cookie
    (only a hash is stored); signing out ends it, so a copied cookie stops working."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @staticmethod
    def hash(secret: str) -> str:
        """What is stored of a sign-in's secret (a SHA-256 hash)."""
        return hashlib.sha256(secret.encode()).hexdigest()
