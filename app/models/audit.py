"""The security activity log (P15) and the retention runs' summaries (P21)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import Base
from app.models.types import UTCDateTime, utcnow


class ActivityLog(Base):
    """Sign-ins and access to children's data; purged after the configured period."""

    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    event: Mapped[str] = mapped_column(sa.String(40), index=True)
    subject: Mapped[str | None] = mapped_column(sa.String(60))  # e.g. "pupil:12"
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[str | None] = mapped_column(sa.String(200))


class RetentionRun(Base):
    """What a retention rule did: no personal data, only the rule, a count and the time."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(sa.String(40), index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    affected: Mapped[int] = mapped_column(default=0)


class FileDeletion(Base):
    """A stored file that a committed change (erasure, retention, a replaced file, an orphan
    sweep) deleted: written in the same transaction as the change, confirmed once the store has
    deleted the object. Rows still unconfirmed are retried by the nightly sweep. Holds the random
    object key only: no name, no content, nothing that points at a family."""

    __tablename__ = "file_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), index=True)
    reason: Mapped[str] = mapped_column(sa.String(24))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
