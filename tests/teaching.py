"""Test data for the teachers' area: activities, topics, engagements (each committed)."""

from __future__ import annotations

from datetime import date, timedelta

from app.core.extensions import db
from app.models import (
    Activity,
    ActivityKind,
    Contribution,
    ContributionKind,
    Engagement,
    TopicActivity,
    TopicStatus,
    WeeklyTopic,
    utcnow,
)


def pdf_bytes(pages: int = 1, pad: int = 0) -> bytes:
    """A small, valid PDF (header, objects, cross-reference table, trailer, %%EOF)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if pad:
        out += b"% " + b"x" * pad + b"\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def next_monday(weeks: int = 1) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks)


def activity(org, title="Count the stairs", kind=ActivityKind.HANDS_ON, **kw) -> Activity:
    kw.setdefault("subject", "Number")
    kw.setdefault("year_groups", "1,2")
    kw.setdefault("instructions", "Count the stairs.\nThen count them backwards.")
    row = Activity(organisation_id=org.id, kind=kind, title=title, **kw)
    db.session.add(row)
    db.session.commit()
    return row


def video(org, title="How plants grow", provider="youtube", video_id="aBcDeFgHiJk"):
    return activity(
        org, title, ActivityKind.VIDEO, video_provider=provider, video_id=video_id, subject="Science"
    )


def topic(
    org, classes, activities=(), *, week=None, status=TopicStatus.DRAFT, title="Our week", **kw
) -> WeeklyTopic:
    row = WeeklyTopic(
        organisation_id=org.id,
        week_start=week or next_monday(),
        title=title,
        classes=list(classes),
        status=status,
        **kw,
    )
    if status is TopicStatus.PUBLISHED:
        row.published_at = kw.get("published_at") or utcnow()
    for position, each in enumerate(activities):
        row.items.append(TopicActivity(activity_id=each.id, position=position))
    db.session.add(row)
    db.session.commit()
    return row


def done(pupil, item, rating=None, comment=None, photo_key=None, thumb_key=None, by=None):
    """A child did an activity, optionally with a comment or a photo from the family."""
    engagement = Engagement(
        pupil_id=pupil.id, topic_activity_id=item.id, rating=rating, done_by_id=getattr(by, "id", None)
    )
    db.session.add(engagement)
    db.session.flush()
    made = None
    if comment is not None:
        made = Contribution(
            engagement_id=engagement.id,
            kind=ContributionKind.COMMENT,
            body=comment,
            author_id=getattr(by, "id", None),
        )
    elif photo_key is not None:
        made = Contribution(
            engagement_id=engagement.id,
            kind=ContributionKind.PHOTO,
            photo_key=photo_key,
            thumb_key=thumb_key,
            author_id=getattr(by, "id", None),
        )
    if made is not None:
        db.session.add(made)
    db.session.commit()
    return made or engagement
