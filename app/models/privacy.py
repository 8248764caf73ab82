"""Data-protection requests, their audit trail and exports, and the breach log."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import Base
from app.models.types import UTCDateTime, enum_column, utcnow


class RequestKind(enum.Enum):
    ACCESS = "access"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    OTHER = "other"


class RequestState(enum.Enum):
    RECEIVED = "received"
    IDENTITY_CHECK = "identity_check"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETED = "completed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


OPEN_STATES = ("received", "identity_check", "in_progress", "paused")


class RequestChannel(enum.Enum):
    WEB = "web"
    PUBLIC_FORM = "public_form"
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    IN_PERSON = "in_person"


class ExportState(enum.Enum):
    QUEUED = "queued"
    BUILDING = "building"
    REVIEW = "review"  # other families' data flagged for the office to check
    READY = "ready"
    EXPIRED = "expired"
    FAILED = "failed"


_open = sa.text("state IN ('received', 'identity_check', 'in_progress', 'paused')")
_open_without_email = sa.text(
    "state IN ('received', 'identity_check', 'in_progress', 'paused') AND requester_email IS NULL"
)


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"
    __table_args__ = (
        # One open request per person, subject and kind (Indico's DataExportRequest idea). The
        # person is their email address; without one (a parent with only a mobile), their
        # account. A letter with neither is not keyed (NULLs are distinct).
        sa.Index(
            "uq_privacy_requests_open",
            "organisation_id",
            "requester_email",
            "subject_pupil_id",
            "kind",
            unique=True,
            postgresql_where=_open,
        ),
        sa.Index(
            "uq_privacy_requests_open_account",
            "organisation_id",
            "requester_id",
            "subject_pupil_id",
            "kind",
            unique=True,
            postgresql_where=_open_without_email,
        ),
        sa.CheckConstraint("extension_months BETWEEN 0 AND 2", name="extension_max"),
        sa.CheckConstraint("extension_months = 0 OR extension_reason IS NOT NULL", name="extension_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, "request_kind"))
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState, "request_state"), default=RequestState.RECEIVED
    )
    channel: Mapped[RequestChannel] = mapped_column(enum_column(RequestChannel, "request_channel"))
    requester_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    requester_name: Mapped[str] = mapped_column(sa.String(120))
    requester_email: Mapped[str | None] = mapped_column(sa.String(254))  # NULL: none given
    subject_pupil_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("pupils.id", ondelete="SET NULL"), index=True
    )
    on_behalf_of: Mapped[str] = mapped_column(sa.String(20), default="self")  # self | child (P28)
    details: Mapped[str] = mapped_column(sa.Text, default="")
    received_on: Mapped[date]
    identity_checked_on: Mapped[date | None]
    paused_days: Mapped[int] = mapped_column(default=0)
    paused_since: Mapped[date | None]
    due_on: Mapped[date | None] = mapped_column(index=True)
    extension_months: Mapped[int] = mapped_column(default=0)
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # public form email check
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The language the requester wrote in (i18n.LANGUAGES), for every message about the request
    language: Mapped[str | None] = mapped_column(sa.String(10))

    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.at", cascade="all, delete-orphan"
    )


class RequestEvent(Base):
    """The audit trail of a request: every transition, who made it and when."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("privacy_requests.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    from_state: Mapped[str | None] = mapped_column(sa.String(24))
    to_state: Mapped[str] = mapped_column(sa.String(24))
    note: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[PrivacyRequest] = relationship(back_populates="events")


class DataExport(Base):
    __tablename__ = "data_exports"
    __table_args__ = (sa.CheckConstraint("state <> 'ready' OR file_key IS NOT NULL", name="ready_has_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("privacy_requests.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[ExportState] = mapped_column(
        enum_column(ExportState, "export_state"), default=ExportState.QUEUED
    )
    file_key: Mapped[str | None] = mapped_column(sa.String(80))
    flagged: Mapped[list | None] = mapped_column(sa.JSON)  # other families' data to review
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    download_count: Mapped[int] = mapped_column(default=0)
    # Who in the office looked at the copy and released it, and when (nothing goes out unseen).
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BreachDecision(enum.Enum):
    PENDING = "pending"
    REPORTED = "reported"
    NOT_REPORTED = "not_reported"


class Breach(Base):
    """A personal-data breach (P29), with the 72-hour clock from awareness."""

    __tablename__ = "breaches"
    __table_args__ = (
        sa.CheckConstraint(
            "decision <> 'not_reported' OR decision_reason IS NOT NULL", name="not_reported_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime)
    what_happened: Mapped[str] = mapped_column(sa.Text, default="")
    data_categories: Mapped[str] = mapped_column(sa.Text, default="")
    people_affected: Mapped[int | None]
    records_affected: Mapped[int | None]
    consequences: Mapped[str] = mapped_column(sa.Text, default="")
    measures: Mapped[str] = mapped_column(sa.Text, default="")
    decision: Mapped[BreachDecision] = mapped_column(
        enum_column(BreachDecision, "breach_decision"), default=BreachDecision.PENDING
    )
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_reason: Mapped[str | None] = mapped_column(sa.Text)
    families_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminders_sent: Mapped[int] = mapped_column(default=0)  # 24, 48, 66 hours
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
