"""Privacy-notice versions and the append-only history of every consent given or withdrawn."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import Base
from app.models.types import UTCDateTime, enum_column, utcnow


class ConsentPurpose(enum.Enum):
    SERVICE = "service"  # P01: joining, with the notice
    NOTICE_ACK = "notice_ack"  # P07: acknowledged a major notice change
    SMS_REMINDERS = "sms_reminders"
    PROMO_PHOTOS = "promo_photos"  # P04 general opt-in; each contribution has its own too
    CONTRIBUTION_PROMO = "contribution_promo"  # P04 per photo or comment
    NEWS = "news"  # P09 marketing
    COOKIES_PERFORMANCE = "cookies_performance"  # P06
    COOKIES_FUNCTIONAL = "cookies_functional"  # P06


class ConsentMethod(enum.Enum):
    WEB_FORM = "web_form"
    INVITATION = "invitation"
    PAPER = "paper"
    EMAIL_LINK = "email_link"
    OFFICE = "office"


class PrivacyNotice(Base):
    __tablename__ = "privacy_notices"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "version", name="version_per_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    version: Mapped[str] = mapped_column(sa.String(20))
    summary: Mapped[str] = mapped_column(sa.Text)  # jargon-free summary of what it says / changed
    body: Mapped[str] = mapped_column(sa.Text)
    major: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentRecord(Base):
    """One consent decision. Never updated or deleted while the person's account exists (P08)."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))  # controller
    pupil_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pupils.id", ondelete="SET NULL"), index=True)
    contribution_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contributions.id", ondelete="SET NULL"), index=True
    )
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose, "consent_purpose"))
    granted: Mapped[bool]
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("privacy_notices.id"))
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, "consent_method"))
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(120))  # e.g. "self and child"
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    notice: Mapped[PrivacyNotice | None] = relationship()


@event.listens_for(ConsentRecord, "before_update")
def _consent_is_append_only(mapper, connection, target):  # pragma: no cover - guard
    raise ValueError("consent records are append-only: add a new record instead")
