"""Notification deliveries (one per carer per event and channel) and the development outbox."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import Base
from app.models.types import UTCDateTime, enum_column, utcnow


class Channel(enum.Enum):
    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"


class NotificationDelivery(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (sa.UniqueConstraint("event_key", "user_id", "channel", name="once_per_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(120))  # e.g. "topic:12:published"
    template: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "delivery_channel"))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.QUEUED
    )
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    provider_id: Mapped[str | None] = mapped_column(sa.String(80))
    attempts: Mapped[int] = mapped_column(default=0)
    context: Mapped[dict | None] = mapped_column(sa.JSON)  # ids only, never personal data
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # quiet hours
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    segments: Mapped[int | None] = mapped_column(sa.SmallInteger)  # a text's SMS segments (its cost)


class OutboxMessage(Base):
    """A message the outbox backend 'sent': shown at /dev/outbox in development and demo."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "outbox_channel"))
    to: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict | None] = mapped_column(sa.JSON)
    # The school it was sent on behalf of; NULL for sign-in links and codes (about an account).
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
