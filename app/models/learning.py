"""Activities, weekly topics, and what families send back: engagement, comments, photos, awards."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import Base
from app.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # the mapper resolves the name through the registry at runtime
    from app.models.school import SchoolClass


class ActivityKind(enum.Enum):
    VIDEO = "video"
    GAME = "game"
    PRINTABLE = "printable"
    HANDS_ON = "hands_on"


class TopicStatus(enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


class ContributionKind(enum.Enum):
    COMMENT = "comment"
    PHOTO = "photo"


class AwardKind(enum.Enum):
    STAR_OF_THE_WEEK = "star_of_the_week"
    GREAT_EFFORT = "great_effort"
    READING_CHAMPION = "reading_champion"
    SUPER_SCIENTIST = "super_scientist"
    KIND_HELPER = "kind_helper"


class UsageKind(enum.Enum):
    SESSION = "session"
    ACTIVITY_OPENED = "activity_opened"
    VIDEO_PLAYED = "video_played"
    ACTIVITY_DONE = "activity_done"


class Activity(Base):
    """A short activity in a school's library (organisation_id NULL: the starter library)."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.CheckConstraint("minutes IS NULL OR (minutes > 0 AND minutes <= 240)", name="minutes"),
        sa.CheckConstraint(
            "kind <> 'video' OR (video_provider IS NOT NULL AND video_id IS NOT NULL)", name="video_has_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, "activity_kind"))
    title: Mapped[str] = mapped_column(sa.String(120))
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    subject: Mapped[str] = mapped_column(sa.String(40))
    year_groups: Mapped[str] = mapped_column(sa.String(40))  # "R,1,2"
    minutes: Mapped[int | None]
    url: Mapped[str | None] = mapped_column(sa.String(500))
    video_provider: Mapped[str | None] = mapped_column(sa.String(16))
    video_id: Mapped[str | None] = mapped_column(sa.String(32))
    file_key: Mapped[str | None] = mapped_column(sa.String(80))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


topic_classes = sa.Table(
    "topic_classes",
    Base.metadata,
    sa.Column("topic_id", sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
)


class WeeklyTopic(Base):
    __tablename__ = "topics"
    __table_args__ = (
        sa.CheckConstraint("status <> 'scheduled' OR publish_at IS NOT NULL", name="scheduled_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    week_start: Mapped[date] = mapped_column(index=True)  # a Monday
    title: Mapped[str] = mapped_column(sa.String(120))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[TopicStatus] = mapped_column(
        enum_column(TopicStatus, "topic_status"), default=TopicStatus.DRAFT
    )
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # families told (once)
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock for two editors
    copied_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    classes: Mapped[list[SchoolClass]] = relationship(secondary=topic_classes)
    items: Mapped[list[TopicActivity]] = relationship(
        back_populates="topic", order_by="TopicActivity.position", cascade="all, delete-orphan"
    )


class TopicActivity(Base):
    __tablename__ = "topic_activities"
    __table_args__ = (sa.UniqueConstraint("topic_id", "activity_id", name="once_per_topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id"))
    position: Mapped[int] = mapped_column(default=0)

    topic: Mapped[WeeklyTopic] = relationship(back_populates="items")
    # Whoever loads a topic's activities shows them (the planner, the preview, a family's past
    # weeks): loaded in the same query, not one query per activity.
    activity: Mapped[Activity] = relationship(lazy="joined", innerjoin=True)


class Engagement(Base):
    """A child did an activity of a topic (at most once), with an optional 1–5 rating."""

    __tablename__ = "engagements"
    __table_args__ = (
        sa.UniqueConstraint("pupil_id", "topic_activity_id", name="once_per_child"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(sa.ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    topic_activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("topic_activities.id", ondelete="CASCADE"), index=True
    )
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    rating: Mapped[int | None]
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    contributions: Mapped[list[Contribution]] = relationship(back_populates="engagement")


class Contribution(Base):
    """A comment or photo a family sent back; shared with the child's school staff only (P04)."""

    __tablename__ = "contributions"
    __table_args__ = (
        sa.CheckConstraint("kind <> 'photo' OR photo_key IS NOT NULL", name="photo_has_file"),
        sa.CheckConstraint("kind <> 'comment' OR body IS NOT NULL", name="comment_has_body"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[ContributionKind] = mapped_column(enum_column(ContributionKind, "contribution_kind"))
    body: Mapped[str | None] = mapped_column(sa.Text)
    photo_key: Mapped[str | None] = mapped_column(sa.String(80))
    thumb_key: Mapped[str | None] = mapped_column(sa.String(80))
    promo_opt_in: Mapped[bool] = mapped_column(default=False)  # P04: separate, per item
    promo_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shows_other_children: Mapped[bool] = mapped_column(default=False)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    never_use_again: Mapped[bool] = mapped_column(default=False)  # P23
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="contributions")


class Award(Base):
    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(sa.ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    given_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[AwardKind] = mapped_column(enum_column(AwardKind, "award_kind"))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageEvent(Base):
    """First-party usage (P05): what a family opened, played or did; no third party sees it."""

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id", ondelete="SET NULL"))
    kind: Mapped[UsageKind] = mapped_column(enum_column(UsageKind, "usage_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
