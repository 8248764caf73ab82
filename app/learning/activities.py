"""The activity library: validation of video links, game links and PDFs; create, edit, search.

Videos are stored as provider + id only (never a raw embed URL), so the page can show a
click-to-play placeholder and build the privacy-enhanced embed after consent (P05, P06).
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import get_template_attribute
from markupsafe import Markup, escape

from app.core import i18n
from app.core.contexts import current_request
from app.core.direct_reads import DirectRead
from app.core.errors import FieldError
from app.core.extensions import db
from app.learning.starter_words import school_words
from app.models import (
    Activity,
    ActivityKind,
    ConsentPurpose,
    ConsentRecord,
    Guardianship,
    Pupil,
    TopicActivity,
    TopicStatus,
    User,
    WeeklyTopic,
    bound_list,
    topic_classes,
    utcnow,
)

YEAR_GROUPS = ["R", "1", "2", "3", "4", "5", "6"]
SUBJECTS = [
    "Reading",
    "Phonics",
    "Writing",
    "Number",
    "Science",
    "Outdoors",
    "Art and music",
    "Wellbeing",
    "Other",
]
MAX_PDF_BYTES = 5 * 1024 * 1024
KIND_LABELS = {
    ActivityKind.VIDEO: "Video",
    ActivityKind.GAME: "Game",
    ActivityKind.PRINTABLE: "Printable",
    ActivityKind.HANDS_ON: "Hands-on",
}
PROVIDER_NAMES = {"youtube": "YouTube", "vimeo": "Vimeo"}

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}
_VIMEO_ID = re.compile(r"^[0-9]{1,12}$")


class ActivityError(FieldError):
    """Input the library refuses; ``field`` names the form field the message belongs to."""


def parse_video_url(url: str) -> tuple[str, str]:
    """Return ``(provider, id)`` for a YouTube or Vimeo link; raise ActivityError otherwise."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ActivityError("url", "That does not look like a web address.") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise ActivityError(
            "url", "Please paste the full address of a YouTube or Vimeo video, starting with https://"
        )
    segments = [s for s in parts.path.split("/") if s]
    if host in _YOUTUBE_HOSTS or host == "youtu.be":
        if host == "youtu.be":
            candidate = segments[0] if segments else ""
        elif segments[:1] == ["watch"] or not segments:
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) >= 2 and segments[0] in ("embed", "shorts", "live", "v"):
            candidate = segments[1]
        else:
            candidate = ""
        if _YOUTUBE_ID.match(candidate):
            return "youtube", candidate
        raise ActivityError(
            "url",
            "That YouTube address has no video in it. Open the video and "
            "copy the address from the Share button.",
        )
    if host in _VIMEO_HOSTS:
        if host == "player.vimeo.com":
            candidate = segments[1] if len(segments) >= 2 and segments[0] == "video" else ""
        else:
            candidate = segments[-1] if segments else ""
        if _VIMEO_ID.match(candidate):
            return "vimeo", candidate
        raise ActivityError("url", "That Vimeo address has no video number in it.")
    raise ActivityError(
        "url", "Only YouTube and Vimeo videos can be added, so that they can be played without tracking."
    )


def check_game_url(url: str) -> str:
    """A game link must be a plain https address; return it tidied."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ActivityError("url", "That does not look like a web address.") from None
    if (
        parts.scheme != "https"
        or not parts.hostname
        or "." not in parts.hostname
        or (parts.username or parts.password)
    ):
        raise ActivityError("url", "Please give the game's full address, starting with https://")
    if len(url) > 500:
        raise ActivityError("url", "That address is too long (500 characters at most).")
    return url


def check_pdf(data: bytes) -> None:
    """Refuse anything that is not really a PDF of at most 5 MB (magic bytes and trailer)."""
    if not data:
        raise ActivityError("file", "Please choose a PDF file.")
    if len(data) > MAX_PDF_BYTES:
        raise ActivityError(
            "file",
            f"That file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            "5 MB. Please make it smaller and try again.",
        )
    if not re.match(rb"%PDF-[12]\.[0-9]", data[:16]):
        raise ActivityError(
            "file", "That file is not a PDF. Please save the worksheet as a PDF and try again."
        )
    tail = data[-2048:]
    if b"%%EOF" not in tail or b"startxref" not in data[-4096:] or b" obj" not in data[:65536]:
        raise ActivityError(
            "file", "That PDF seems damaged or incomplete. Please save it again and try once more."
        )


@dataclass
class ActivityInput:
    """What the library form sends, already through the form's own validators."""

    kind: ActivityKind
    title: str
    instructions: str = ""
    subject: str = "Other"
    year_groups: list[str] = field(default_factory=list)
    minutes: int | None = None
    url: str = ""
    pdf: bytes | None = None


def _apply(activity: Activity, data: ActivityInput) -> str | None:
    """Copy validated input onto ``activity``; return the old file key when it was replaced."""
    activity.kind = data.kind
    activity.title = data.title.strip()
    activity.instructions = data.instructions.replace("\r\n", "\n").strip()
    activity.subject = data.subject
    activity.year_groups = ",".join(g for g in YEAR_GROUPS if g in data.year_groups)
    activity.minutes = data.minutes
    activity.url = activity.video_provider = activity.video_id = None
    old_key = None
    if data.kind is ActivityKind.VIDEO:
        activity.video_provider, activity.video_id = parse_video_url(data.url)
    elif data.kind is ActivityKind.GAME:
        activity.url = check_game_url(data.url)
    if data.kind is ActivityKind.PRINTABLE:
        if data.pdf is not None:
            check_pdf(data.pdf)
            from app.core import storage

            old_key = activity.file_key
            activity.file_key = storage.put(data.pdf, prefix="pdf")
        elif not activity.file_key:
            raise ActivityError("file", "Please choose the PDF families will print.")
    else:
        old_key, activity.file_key = activity.file_key, None
    return old_key


def save_activity(
    organisation_id: int, user: User | None, data: ActivityInput, activity: Activity | None = None
) -> Activity:
    """Create (or update) a library activity and commit; raise ActivityError for bad input."""
    if not data.year_groups:
        raise ActivityError("year_groups", "Please tick at least one year group.")
    new = activity is None
    if activity is None:
        activity = Activity(organisation_id=organisation_id, created_by_id=getattr(user, "id", None))
    old_key = _apply(activity, data)
    if new:
        db.session.add(activity)
    if old_key:
        from app.core import storage

        # only once the new file is safely recorded
        storage.delete_after_commit([old_key], reason="replaced", organisation_id=organisation_id)
    db.session.commit()
    return activity


def archive_activity(activity: Activity) -> None:
    """Take an activity out of the library; topics that used it keep it."""
    activity.archived_at = utcnow()
    db.session.commit()


def restore_activity(activity: Activity) -> None:
    """Put an archived activity back in the library."""
    activity.archived_at = None
    db.session.commit()


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    organisation_id: int,
    columns: tuple[str, ...],
    *,
    limit: int,
    offset: int = 0,
    text: str = "",
    kind: str = "",
    subject: str = "",
    year_group: str = "",
    archived: bool = False,
    exclude_ids=(),
) -> list:
    """A school's activities matching the filters, best matches (by title) first, as rows of
    ``columns`` (names of ``Activity``'s columns, each row's attributes): ``limit`` of them from
    ``offset``. Filters with a value not offered (a kind, subject or year group of no activity)
    are left out, as the forms offer them."""
    text = (text or "").strip()[:100]
    params: dict = {"school": organisation_id, "limit": limit, "offset": offset}
    if text:
        params["pattern"] = _like(text)
    if kind in _KINDS:
        params["kind"] = ActivityKind(kind)
    if subject in SUBJECTS:
        params["subject"] = subject
    if year_group in YEAR_GROUPS:
        params["year_group"] = f",{year_group},"
    if exclude_ids:
        params["exclude"] = list(exclude_ids)
    read = _search_read(columns, archived, frozenset(params))
    row = _row_type(columns)
    return [row._make(found) for found in read.run(params)]


_KINDS = frozenset(k.value for k in ActivityKind)


@cache
def _row_type(columns: tuple[str, ...]) -> Any:
    """A row type whose attributes are ``columns``."""
    return namedtuple("Found", columns)  # noqa: PYI024 - the names are known only here


@cache
def _search_read(columns: tuple[str, ...], archived: bool, given: frozenset[str]) -> DirectRead:
    """``search``'s statement for one set of columns and filters, its values bound (``given``
    names them): built and compiled once per process for each shape."""
    query = sa.select(*(getattr(Activity, name) for name in columns)).where(
        Activity.organisation_id == sa.bindparam("school", type_=sa.Integer),
        Activity.archived_at.is_not(None) if archived else Activity.archived_at.is_(None),
    )
    title_first: tuple = ()
    if "pattern" in given:
        pattern = sa.bindparam("pattern", type_=sa.String)
        query = query.where(
            sa.or_(
                Activity.title.ilike(pattern, escape="\\"),
                Activity.instructions.ilike(pattern, escape="\\"),
                Activity.subject.ilike(pattern, escape="\\"),
            )
        )
        title_first = (sa.case((Activity.title.ilike(pattern, escape="\\"), 0), else_=1),)
    if "kind" in given:
        query = query.where(Activity.kind == sa.bindparam("kind", type_=Activity.kind.type))
    if "subject" in given:
        query = query.where(Activity.subject == sa.bindparam("subject", type_=sa.String))
    if "year_group" in given:
        query = query.where(
            ("," + Activity.year_groups + ",").contains(sa.bindparam("year_group", type_=sa.String))
        )
    if "exclude" in given:
        query = query.where(Activity.id != sa.all_(bound_list("exclude", sa.Integer)))
    return DirectRead(
        query.order_by(*title_first, Activity.title, Activity.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


def activity_for_staff(organisation_ids: list[int], activity_id: int) -> Activity | None:
    """An activity of one of these schools' libraries, or None."""
    rows = _staff_activity_read().run({"activity_id": activity_id, "organisation_ids": organisation_ids})
    return rows[0][0] if rows else None


@cache
def _staff_activity_read() -> DirectRead:
    """``activity_for_staff``'s statement, compiled once per process (the schools as one array)."""
    return DirectRead(
        sa.select(Activity).where(
            Activity.id == sa.bindparam("activity_id", type_=sa.Integer),
            Activity.organisation_id == sa.any_(bound_list("organisation_ids", sa.Integer)),
        )
    )


def activity_for_parent(user: User, activity_id: int) -> Activity | None:
    """The activity if a child linked to ``user`` has a published topic with it, else None."""
    rows = _parent_activity_read().run({"activity_id": activity_id, "parent_id": user.id})
    return rows[0][0] if rows else None


@cache
def _parent_activity_read() -> DirectRead:
    """``activity_for_parent``'s statement, compiled once per process."""
    activity_id = sa.bindparam("activity_id", type_=sa.Integer)
    shared = (
        sa.select(TopicActivity.id)
        .join(WeeklyTopic, WeeklyTopic.id == TopicActivity.topic_id)
        .join(topic_classes, topic_classes.c.topic_id == WeeklyTopic.id)
        .join(Pupil, Pupil.class_id == topic_classes.c.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(
            TopicActivity.activity_id == activity_id,
            WeeklyTopic.status == TopicStatus.PUBLISHED,
            Guardianship.parent_id == sa.bindparam("parent_id", type_=sa.Integer),
            Guardianship.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
    )
    return DirectRead(sa.select(Activity).where(Activity.id == activity_id, sa.exists(shared)))


# --- videos without tracking (P05, P06) -------------------------------------------------------


def embed_url(activity: Activity) -> str:
    """The privacy-enhanced player address (no cookies until play, do-not-track)."""
    if activity.video_provider == "youtube":
        return f"https://www.youtube-nocookie.com/embed/{activity.video_id}?dnt=1&rel=0"
    return f"https://player.vimeo.com/video/{activity.video_id}?dnt=1"


def watch_url(activity: Activity) -> str:
    """A plain link to the video on the provider's own site."""
    if activity.video_provider == "youtube":
        return f"https://www.youtube.com/watch?v={activity.video_id}"
    return f"https://vimeo.com/{activity.video_id}"


def functional_cookies_allowed(user_id: int) -> bool:
    """Whether the person's latest choice about functional cookies is a yes (P06)."""
    granted = db.session.scalar(
        sa.select(ConsentRecord.granted)
        .where(ConsentRecord.user_id == user_id, ConsentRecord.purpose == ConsentPurpose.COOKIES_FUNCTIONAL)
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    return bool(granted)


def allow_functional_cookies(user: User, organisation_id: int | None) -> None:
    """Record a yes to functional cookies (video players), as asked on a video (P06): appended
    to the person's consent history with the current notice; committed."""
    from app.core import consent
    from app.models import ConsentMethod

    consent.record(
        user.id,
        ConsentPurpose.COOKIES_FUNCTIONAL,
        True,
        method=ConsentMethod.WEB_FORM,
        organisation_id=organisation_id,
        on_behalf_of="self",
        recorded_by_id=user.id,
    )
    db.session.commit()


def _referenced_pdfs(keys: list[str]) -> set[str]:
    """Which of ``keys`` an activity's printable still is (for the orphan sweep)."""
    return set(db.session.scalars(sa.select(Activity.file_key).where(Activity.file_key.in_(keys))))


def _register() -> None:
    from app.core import storage

    storage.register_references(("pdf",), _referenced_pdfs)


_register()


def record_usage(user_id: int, activity_id: int, kind) -> None:
    """A first-party usage event (P05): a video played, a printable opened. Committed."""
    from app.core.transactions import transaction
    from app.models import UsageEvent

    with transaction():
        db.session.add(UsageEvent(user_id=user_id, activity_id=activity_id, kind=kind))


def kind_label(activity: Activity) -> Markup:
    """An activity's kind in the reader's language ("Video", "Gra"): only its own word is looked
    up. A function for every template (a family's home shows one per activity)."""
    _ = i18n.translations().ugettext
    kind = activity.kind
    if kind is ActivityKind.VIDEO:
        return Markup(_("Video"))
    if kind is ActivityKind.GAME:
        return Markup(_("Game"))
    if kind is ActivityKind.PRINTABLE:
        return Markup(_("Printable"))
    return Markup(_("Hands-on"))


class Shown(NamedTuple):
    """What a topic card shows of one activity (``templates/parents/_topic.html``, ``activity``),
    with the page's language and address: everything the drawing depends on, so also the key it
    is remembered by."""

    language: str
    script_root: str
    item_id: int
    next: str | None  # where the no-JavaScript video page links back to
    folded: bool  # long steps folded under the first (a family's page)
    id: int
    title: str
    kind: ActivityKind
    minutes: int | None
    instructions: str | None
    url: str | None
    file_key: str | None
    video_provider: str | None


def activity_card(item, next: str | None = None, folded=False) -> Markup:
    """One activity of a topic card (its title, kind, steps and link), for a template. A family's
    home shows every activity of the week, the same for every family of the class: each is drawn
    once per process for what it shows and remembered (the school's words, never a family's)."""
    a = item.activity
    return _activity_card(
        Shown(
            i18n.current().code,
            current_request().script_root,
            item.id,
            next,
            bool(folded),
            a.id,
            a.title,
            a.kind,
            a.minutes,
            a.instructions,
            a.url,
            a.file_key,
            a.video_provider,
        )
    )


def topic_card(
    topic, items, child_name=None, next=None, page_language=None, under=None, caller=None
) -> Markup:
    """A weekly topic as a family sees it on a phone, for a template: its week, title and note,
    and each activity (``activity_card``) with what the page puts under it: ``under(item)``, or
    Jinja's ``{% call(item) topic_card(topic, items, ...) %} ... {% endcall %}`` (``caller``). A
    family's home, its past weeks and the teachers' preview show it; drawn here rather than by a
    macro, whose call cost a family's home as much as the cards' own words."""
    under = under or caller
    week = i18n.markup_gettext("Week of %(date)s", date=i18n.long_date(topic.week_start, "day"))
    whose = f" · {i18n.markup_gettext('for %(name)s', name=child_name)}" if child_name else ""
    note = f'<p class="topic-note">{school_words(topic.note, page_language)}</p>' if topic.note else ""
    activities = [
        f'\n    <li class="activity" id="activity-{item.id}">\n      {activity_card(item, next, folded=under)}'
        f"\n      {under(item) if under else ''}\n    </li>"
        for item in items
    ] or [f"\n    <li>{i18n.markup_gettext('No activities yet.')}</li>"]
    return Markup(
        f'<article class="card topic" aria-labelledby="topic-{topic.id}-title">\n'
        f'  <p class="muted">{week}{whose}</p>\n'
        f'  <h2 id="topic-{topic.id}-title" lang="en-GB">{escape(topic.title)}</h2>\n'
        f"  {note}\n"
        f'  <ol class="activities">{"".join(activities)}\n  </ol>\n'
        "</article>"
    )


@lru_cache(maxsize=1024)
def _activity_card(shown: Shown) -> Markup:
    return get_template_attribute("parents/_topic.html", "activity")(shown, i18n.current())
