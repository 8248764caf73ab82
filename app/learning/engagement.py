"""What families send back: "we did this" with a 1–5 rating, comments and photos.

- A child does an activity at most once: the ``once_per_child`` unique constraint, written with
  ``INSERT … ON CONFLICT`` so a double tap (even two requests at the same moment) never makes a
  second engagement; a new rating updates the one there is.
- Comments are stored as plain text (shown escaped). Photos go through
  :mod:`app.learning.photos` (clean, small, encrypted at rest: P16) *before* the transaction;
  if the transaction then fails, the stored files are discarded, so nothing is half-stored.
- Each comment and photo carries its own opt-in to promotional use (P04), recorded as a
  ``CONTRIBUTION_PROMO`` consent with the contribution's id. It is offered only while the
  carer's general "photos and comments for promotion" consent is on.
- "Activity done" is recorded as first-party usage the first time (P05).
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy.dialects.postgresql import insert

from app.core import consent, i18n
from app.core.direct_reads import DirectRead, loaded
from app.core.errors import FieldError
from app.core.extensions import db
from app.learning import photos, usage
from app.models import (
    Activity,
    ConsentMethod,
    ConsentPurpose,
    Contribution,
    ContributionKind,
    Engagement,
    Pupil,
    TopicActivity,
    TopicStatus,
    UsageKind,
    User,
    WeeklyTopic,
    topic_classes,
    utcnow,
)

MAX_COMMENT = 2000
RATINGS = {1: "Not for us", 2: "So-so", 3: "OK", 4: "Good", 5: "Loved it"}


def face_words() -> tuple[str, ...]:
    """The five faces' words (ratings 1 to 5) in the page's language: a rating form draws each
    face's word from one call, instead of translating all five words for every face."""
    _ = i18n.translations().ugettext
    return (_("Not for us"), _("So-so"), _("OK"), _("Good"), _("Loved it"))


_FACE = Markup(
    '<button class="face" name="rating" value="{n}"{pressed}><svg aria-hidden="true">'
    '<use href="#f{n}"/></svg>{word}</button>'
)


def face_buttons(rating: int | None) -> Markup:
    """A rating form's five face buttons, best first, the chosen one pressed, in the page's
    language. A family's home draws them under every activity: the same few strings, so they are
    put together once per language and rating (the words are the key, so a language's buttons
    never show in another)."""
    return _face_buttons(face_words(), rating)


@functools.lru_cache(maxsize=256)
def _face_buttons(words: tuple[str, ...], rating: int | None) -> Markup:
    return Markup("").join(
        _FACE.format(n=n, pressed=Markup(' aria-pressed="true"') if n == rating else "", word=words[n - 1])
        for n in range(5, 0, -1)
    )


class EngagementError(FieldError):
    """Input we refuse; ``field`` names the form field, ``message`` is written for the parent."""


def published_item(pupil: Pupil, item_id: int) -> TopicActivity | None:
    """The topic activity ``item_id`` if it is in a published topic for the child's class (and the
    school has not removed the child), its activity loaded; otherwise None."""
    if pupil.class_id is None or pupil.removed_at is not None:
        return None
    rows = _published_item_read().run({"item_id": item_id, "class_id": pupil.class_id})
    if not rows:
        return None
    item, activity = rows[0]
    loaded(item, "activity", activity)
    return item


@functools.cache
def _published_item_read() -> DirectRead:
    """``published_item``'s statement with the activity, compiled once per process."""
    return DirectRead(
        sa.select(TopicActivity, Activity)
        .join(Activity, Activity.id == TopicActivity.activity_id)
        .join(WeeklyTopic, WeeklyTopic.id == TopicActivity.topic_id)
        .join(topic_classes, topic_classes.c.topic_id == WeeklyTopic.id)
        .where(
            TopicActivity.id == sa.bindparam("item_id", type_=sa.Integer),
            topic_classes.c.class_id == sa.bindparam("class_id", type_=sa.Integer),
            WeeklyTopic.status == TopicStatus.PUBLISHED,
        )
    )


def _engagement(pupil: Pupil, item: TopicActivity, user: User, rating: int | None) -> tuple[int, bool]:
    """Insert the engagement or (with a rating) update the existing one, without ever making a
    second row. Returns (engagement id, whether it was created now). The caller commits."""
    table = Engagement.__table__
    created_id = db.session.scalar(
        insert(table)
        .values(
            pupil_id=pupil.id, topic_activity_id=item.id, done_by_id=user.id, rating=rating, done_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["pupil_id", "topic_activity_id"])
        .returning(table.c.id)
    )
    if created_id is not None:
        usage.record(
            UsageKind.ACTIVITY_DONE, user_id=user.id, pupil_id=pupil.id, activity_id=item.activity_id
        )
        return created_id, True
    where = sa.and_(table.c.pupil_id == pupil.id, table.c.topic_activity_id == item.id)
    # the insert met an existing row: read (or update) that one
    if rating is None:
        return db.session.execute(sa.select(table.c.id).where(where)).scalar_one(), False
    return db.session.execute(
        sa.update(table).where(where).values(rating=rating, done_by_id=user.id).returning(table.c.id)
    ).scalar_one(), False


def check_rating(value) -> int:
    """A rating from a form: an integer from 1 to 5, or EngagementError."""
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise EngagementError(
            "rating", gettext("Please choose one of the five faces, from 1 (not for us) to 5 (loved it).")
        )
    return rating


def rate(pupil: Pupil, item: TopicActivity, user: User, rating) -> Engagement:
    """Mark the activity done for the child with a rating (or change the rating); committed."""
    rating = check_rating(rating)
    engagement_id, _ = _engagement(pupil, item, user, rating)
    db.session.commit()
    return db.session.get_one(Engagement, engagement_id, populate_existing=True)


def _clean_comment(text: str | None) -> str:
    comment = (text or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        raise EngagementError(
            "comment",
            gettext(
                "That comment is %(length)s characters long; please keep it under %(limit)s.",
                length=f"{len(comment):,}",
                limit=f"{MAX_COMMENT:,}",
            ),
        )
    return comment


def send(
    pupil: Pupil,
    item: TopicActivity,
    user: User,
    *,
    comment: str | None = None,
    comment_promo: bool = False,
    photo=None,
    photo_promo: bool = False,
    promo_allowed: bool = False,
) -> list[Contribution]:
    """Send a comment and/or a photo about an activity to the child's school (committed).

    ``photo`` is an upload (werkzeug ``FileStorage``) or None. Sending marks the activity done
    if it was not yet. Raises EngagementError for anything refused; nothing is stored then.
    """
    text = _clean_comment(comment)
    has_photo = photo is not None and bool(getattr(photo, "filename", "upload"))
    if not text and not has_photo:
        raise EngagementError("comment", gettext("Please write a comment or choose a photo to send."))
    if (comment_promo or photo_promo) and not promo_allowed:
        raise EngagementError(
            "promo",
            gettext(
                "You have not allowed photos and comments to be used to "
                "show what families do. You can allow it in Settings."
            ),
        )
    processed = None
    if has_photo:
        try:
            processed = photos.process_photo(photo)
        except photos.PhotoRejected as rejected:
            raise EngagementError("photo", rejected.message) from None
    try:
        engagement_id, _ = _engagement(pupil, item, user, None)
        made = []
        if text:
            made.append(
                Contribution(
                    engagement_id=engagement_id,
                    author_id=user.id,
                    kind=ContributionKind.COMMENT,
                    body=text,
                    promo_opt_in=bool(comment_promo),
                )
            )
        if processed is not None:
            made.append(
                Contribution(
                    engagement_id=engagement_id,
                    author_id=user.id,
                    kind=ContributionKind.PHOTO,
                    photo_key=processed.photo_key,
                    thumb_key=processed.thumb_key,
                    promo_opt_in=bool(photo_promo),
                )
            )
        db.session.add_all(made)
        db.session.flush()
        for row in made:
            if row.promo_opt_in:
                consent.record(
                    user.id,
                    ConsentPurpose.CONTRIBUTION_PROMO,
                    True,
                    method=ConsentMethod.WEB_FORM,
                    organisation_id=pupil.organisation_id,
                    pupil_id=pupil.id,
                    contribution_id=row.id,
                    on_behalf_of="self",
                    recorded_by_id=user.id,
                )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if processed is not None:
            photos.discard(processed)
        raise
    return made
