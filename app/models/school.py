"""Trusts, schools, classes, pupils and the links between pupils and their carers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import Base
from app.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # the mapper resolves the name through the registry at runtime
    from app.models.people import User


class OrgKind(enum.Enum):
    SCHOOL = "school"
    PARTNER = "partner"


class Source(enum.Enum):
    """Where a record came from (P02): the school is controller, or the family gave it directly."""

    SCHOOL = "school"
    FAMILY = "family"


class RemovedBy(enum.Enum):
    SCHOOL = "school"
    PARENT = "parent"


class InvitationStatus(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Trust(Base):
    __tablename__ = "trusts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    dpo_email: Mapped[str | None] = mapped_column(sa.String(254))


class Organisation(Base):
    """A school or a partner organisation; the controller of the data it supplies."""

    __tablename__ = "organisations"
    __table_args__ = (
        sa.CheckConstraint("reminder_weekday BETWEEN 0 AND 6", name="reminder_weekday_range"),
        sa.CheckConstraint("activity_log_days >= 30", name="activity_log_days_min"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int | None] = mapped_column(sa.ForeignKey("trusts.id"), index=True)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, "org_kind"), default=OrgKind.SCHOOL)
    name: Mapped[str] = mapped_column(sa.String(160))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/London")
    dpo_name: Mapped[str | None] = mapped_column(sa.String(120))
    dpo_email: Mapped[str] = mapped_column(sa.String(254))
    privacy_notice_url: Mapped[str | None] = mapped_column(sa.String(500))
    reminder_weekday: Mapped[int] = mapped_column(default=2)  # Wednesday
    activity_log_days: Mapped[int] = mapped_column(default=365)
    closed_account_days: Mapped[int] = mapped_column(default=90)
    inactive_months: Mapped[int] = mapped_column(default=12)
    removed_child_days: Mapped[int] = mapped_column(default=90)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trust: Mapped[Trust | None] = relationship()
    classes: Mapped[list[SchoolClass]] = relationship(back_populates="organisation")


class_teachers = sa.Table(
    "class_teachers",
    Base.metadata,
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class SchoolClass(Base):
    __tablename__ = "classes"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "academic_year", "name", name="name_per_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    year_group: Mapped[str] = mapped_column(sa.String(8))  # "R", "1" … "6"
    academic_year: Mapped[int]  # the year it starts: 2026 for 2026-27

    organisation: Mapped[Organisation] = relationship(back_populates="classes")
    teachers: Mapped[list[User]] = relationship(secondary=class_teachers)
    pupils: Mapped[list[Pupil]] = relationship(back_populates="school_class")


class Pupil(Base):
    __tablename__ = "pupils"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "upn", name="upn_per_school"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(sa.ForeignKey("classes.id"), index=True)
    first_name: Mapped[str] = mapped_column(sa.String(60))
    last_name: Mapped[str] = mapped_column(sa.String(60))
    year_group: Mapped[str] = mapped_column(sa.String(8))
    upn: Mapped[str | None] = mapped_column(sa.String(13))
    pupil_premium: Mapped[bool] = mapped_column(default=False)
    source: Mapped[Source] = mapped_column(enum_column(Source, "pupil_source"), default=Source.SCHOOL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # removed by the school (P18)
    removed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # P25
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # P23 anonymised

    school_class: Mapped[SchoolClass | None] = relationship(back_populates="pupils")
    organisation: Mapped[Organisation] = relationship()
    links: Mapped[list[Guardianship]] = relationship(back_populates="pupil")

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Guardianship(Base):
    """The link between a parent/carer and a pupil."""

    __tablename__ = "guardianships"
    __table_args__ = (sa.UniqueConstraint("parent_id", "pupil_id", name="one_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(sa.ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    relationship_label: Mapped[str] = mapped_column(sa.String(40), default="Parent")
    no_contact: Mapped[bool] = mapped_column(default=False)
    source: Mapped[Source] = mapped_column(enum_column(Source, "link_source"), default=Source.SCHOOL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[RemovedBy | None] = mapped_column(enum_column(RemovedBy, "removed_by"))
    removed_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    parent: Mapped[User] = relationship(foreign_keys=[parent_id])
    pupil: Mapped[Pupil] = relationship(back_populates="links")


class Invitation(Base):
    """An invitation for a carer (or a member of staff) to join; only hashes of secrets are kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(sa.String(24))  # for staff invitations
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # printed letters
    channels: Mapped[str] = mapped_column(sa.String(24), default="email")
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus, "invitation_status"), default=InvitationStatus.PENDING
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str | None] = mapped_column(sa.String(200))
