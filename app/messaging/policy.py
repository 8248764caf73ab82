"""Who may be messaged, on which channel, and when: the delivery policy, loaded set-based.

Never messaged (the delivery row is stored as suppressed, with the reason):
- deactivated or erased accounts, and invited contacts with no email or mobile (P17); only the
  notice of the closure itself, recorded while the account was still open, still goes out;
- people with a restriction or objection, or any message about a restricted pupil (P25);
- carers whose link to the child is marked no-contact;
- optional (marketing) messages without a current NEWS opt-in (P09).
SMS needs the preference, a mobile and a current SMS_REMINDERS consent; it is held until the end
of the recipient's quiet hours (their own, else 20:00-08:00) in the school's timezone. Carers who
chose the weekly digest get digestible messages (templates with a ``.digest.txt`` part) collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from jinja2 import TemplateNotFound
from sqlalchemy.dialects.postgresql import ARRAY

from app.core.extensions import db
from app.models import (
    Channel,
    ConsentPurpose,
    ConsentRecord,
    DeliveryStatus,
    Guardianship,
    Organisation,
    Pupil,
    Source,
    User,
    UserStatus,
    utcnow,
)

DEFAULT_QUIET = (time(20, 0), time(8, 0))
CHUNK = 5000

# Reasons stored on delivery rows (status queued unless said otherwise).
QUIET = "quiet hours"
DIGEST = "digest"
SENDING = "sending "  # + the UTC time the job claimed the row: "sending 2026-11-03T10:00:00Z"
RETRY = "retry "  # "retry 2: HTTP 429"


def now() -> datetime:
    """The clock every notification decision uses (tests move it to rehearse the night)."""
    return utcnow()


@dataclass
class Recipient:
    """What the policy needs to know about one person, loaded for many people at once."""

    id: int
    name: str
    email: str | None
    mobile: str | None
    status: UserStatus
    email_on: bool
    sms_on: bool
    weekly_digest: bool
    quiet_from: time | None
    quiet_until: time | None
    restricted: bool
    objected: bool
    sms_consent: bool = False
    news_consent: bool = False
    no_contact: bool = False
    on_behalf: bool = False  # a school-supplied family (P02)
    language: str | None = None  # their own choice, or the home language the school's roster gave
    links: list = field(default_factory=list)

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0]


@dataclass(frozen=True)
class Planned:
    channel: Channel
    status: DeliveryStatus
    reason: str | None = None
    not_before: datetime | None = None


def zone(org: Organisation | None) -> ZoneInfo:
    try:
        return ZoneInfo((org.timezone if org else None) or "Europe/London")
    except (KeyError, ValueError):
        return ZoneInfo("Europe/London")


def quiet_hold(
    at: datetime, tz: ZoneInfo, quiet_from: time | None = None, quiet_until: time | None = None
) -> datetime | None:
    """If ``at`` falls in the quiet hours, the UTC time they end; otherwise None."""
    start, end = (quiet_from, quiet_until) if quiet_from and quiet_until else DEFAULT_QUIET
    if start == end:
        return None
    local = at.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    day = local.date()
    if start > end:  # over midnight, e.g. 20:00-08:00
        if t >= start:
            day += timedelta(days=1)
        elif t >= end:
            return None
    elif not (start <= t < end):
        return None
    return datetime.combine(day, end, tzinfo=tz).astimezone(at.tzinfo)


@lru_cache(maxsize=256)
def _has_part(app_id: int, template: str, part: str) -> bool:
    try:
        current_app.jinja_env.get_template(f"messages/{template}.{part}")
        return True
    except TemplateNotFound:
        return False


def has_part(template: str, part: str) -> bool:
    """Does ``templates/messages/<template>.<part>`` exist (e.g. ``sms.txt``, ``digest.txt``)?"""
    return _has_part(id(current_app._get_current_object()), template, part)  # type: ignore[attr-defined]  # Flask types the proxy as Flask


def _chunks(ids: list[int], size: int = CHUNK):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


class _Link(NamedTuple):
    pupil_id: int
    no_contact: bool
    source: Source
    removed_at: datetime | None
    organisation_id: int
    pupil_source: Source


def in_ids(column, ids):
    """``column IN ids`` as one array parameter (``= ANY(:ids)``), so thousands of ids do not
    make thousands of parameters."""
    ids = [int(i) for i in ids]
    return column == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(sa.Integer), unique=True))


def _latest(purpose: ConsentPurpose):
    """The user's newest decision for ``purpose`` (a correlated subquery; NULL: never asked)."""
    return (
        sa.select(ConsentRecord.granted)
        .where(ConsentRecord.user_id == User.id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def load_people(user_ids) -> dict[int, Recipient]:
    """Everything the policy needs about ``user_ids`` (details, consents, every link to a child),
    in two set-based queries per chunk of 5,000 people."""
    found: dict[int, Recipient] = {}
    for ids in _chunks(sorted(set(user_ids))):
        for row in db.session.execute(
            sa.select(
                User.id,
                User.name,
                User.email,
                User.mobile,
                User.status,
                User.email_notifications,
                User.sms_notifications,
                User.weekly_digest,
                User.quiet_from,
                User.quiet_until,
                User.restricted_at,
                User.objected_at,
                User.language,
                _latest(ConsentPurpose.SMS_REMINDERS).label("sms_consent"),
                _latest(ConsentPurpose.NEWS).label("news_consent"),
            ).where(in_ids(User.id, ids))
        ):
            found[row.id] = Recipient(
                id=row.id,
                name=row.name,
                email=row.email,
                mobile=row.mobile,
                status=row.status,
                email_on=row.email_notifications,
                sms_on=row.sms_notifications,
                weekly_digest=row.weekly_digest,
                quiet_from=row.quiet_from,
                quiet_until=row.quiet_until,
                restricted=row.restricted_at is not None,
                objected=row.objected_at is not None,
                sms_consent=bool(row.sms_consent),
                news_consent=bool(row.news_consent),
                language=row.language,
            )
        for link in db.session.execute(
            sa.select(
                Guardianship.parent_id,
                Guardianship.pupil_id,
                Guardianship.no_contact,
                Guardianship.source,
                Guardianship.removed_at,
                Pupil.organisation_id,
                Pupil.source.label("pupil_source"),
            )
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(in_ids(Guardianship.parent_id, ids))
        ):
            found[link.parent_id].links.append(_Link(*link[1:]))
    return found


def scoped(
    person: Recipient, organisation_id: int | None, pupil_id: int | None, *, in_place: bool = False
) -> Recipient:
    """The person as seen by one message: about one child (``pupil_id``), or about a school.
    A copy, unless ``in_place`` (the caller scopes each person once)."""
    if pupil_id:
        links = [link for link in person.links if link.pupil_id == pupil_id]
        no_contact = any(link.no_contact for link in links)
    else:
        links = [
            link
            for link in person.links
            if organisation_id is not None and link.organisation_id == organisation_id
        ]
        current = [link for link in links if link.removed_at is None]
        # About the school in general: left out only when every current link to the school's
        # children is marked no-contact.
        no_contact = bool(current) and all(link.no_contact for link in current)
    on_behalf = any(Source.SCHOOL in (link.source, link.pupil_source) for link in links)
    if in_place:
        person.no_contact, person.on_behalf = no_contact, on_behalf
        return person
    return replace(person, no_contact=no_contact, on_behalf=on_behalf)


def load_recipients(
    user_ids, organisation_id: int | None = None, pupil_id: int | None = None
) -> dict[int, Recipient]:
    """:func:`load_people`, scoped to one message about a school or a child."""
    return {uid: scoped(p, organisation_id, pupil_id) for uid, p in load_people(user_ids).items()}


def pupil_block(pupil) -> str | None:
    """A reason to message nobody about this pupil (P25 restriction, or an erased record)."""
    if pupil is None:
        return None
    if pupil.erased_at is not None:
        return "pupil record erased"
    if pupil.restricted_at is not None:
        return "pupil restricted (P25)"
    return None


# Replies about a person's own data-protection request are the school's legal duty, so a
# restriction or objection (P25) does not silence them.
OWN_REQUEST_TEMPLATES = ("request_", "export_ready", "erasure_completed")


def answers_own_request(template: str | None) -> bool:
    return bool(template and template.startswith(OWN_REQUEST_TEMPLATES))


# The notice that an account has been closed is decided while the account is still open (the
# closure follows in the same transaction), so it is sent even though the account is closed by the
# time the message goes out: it is the last message the account gets (P17, P19).
CLOSURE_NOTICES = ("account_closed",)


def suppression(
    r: Recipient,
    *,
    optional: bool,
    blocked: str | None = None,
    template: str | None = None,
    decided: bool = False,
) -> str | None:
    """Why this person must not get this message at all, or None. ``decided``: the message was
    already let through when it was recorded (the check again at sending time)."""
    if r.status is UserStatus.ERASED:
        return "account erased"
    if r.status is UserStatus.DEACTIVATED and not (decided and template in CLOSURE_NOTICES):
        return "account closed (P17)"
    if r.status is UserStatus.INVITED and not (r.email or r.mobile):
        return "invited without contact details"
    if r.objected and not answers_own_request(template):
        return "objected (P25)"
    if r.restricted and not answers_own_request(template):
        return "restricted (P25)"
    if blocked:
        return blocked
    if r.no_contact:
        return "no-contact link"
    if optional and not r.news_consent:
        return "optional message without consent (P09)"
    return None


def channel_problem(r: Recipient, channel: Channel, template: str | None = None) -> str | None:
    """Why this channel cannot be used for this person now, or None. A reply to the person's
    own request needs only the address: like a sign-in code, it is not a notification they
    can switch off."""
    own = answers_own_request(template)
    if channel is Channel.EMAIL:
        if not r.email:
            return "no email address"
        return None if r.email_on or own else "email notifications off"
    if not r.mobile:
        return "no mobile number"
    if own:
        return None
    if not r.sms_on:
        return "SMS notifications off"
    return None if r.sms_consent else "no SMS consent"


def plan(
    r: Recipient, *, template: str, optional: bool, blocked: str | None, at: datetime, tz: ZoneInfo
) -> list[Planned]:
    """The delivery rows for one person: one per channel they use, each queued, held or
    suppressed with a reason."""
    own = answers_own_request(template)  # by email if they have one, else by text
    wanted = [Channel.EMAIL] if r.email and (r.email_on or own) else []
    sms_template = has_part(template, "sms.txt")
    if sms_template and r.mobile and (r.sms_on or (own and not wanted)):
        wanted.append(Channel.SMS)
    reason = suppression(r, optional=optional, blocked=blocked, template=template)
    if reason or not wanted:
        reason = reason or ("notifications off" if r.email or r.mobile else "no contact details")
        return [Planned(ch, DeliveryStatus.SUPPRESSED, reason) for ch in (wanted or [Channel.EMAIL])]
    digest = r.weekly_digest and has_part(template, "digest.txt")
    rows = []
    for channel in wanted:
        problem = channel_problem(r, channel, template)
        if problem:
            rows.append(Planned(channel, DeliveryStatus.SUPPRESSED, problem))
        elif digest and channel is Channel.EMAIL:
            rows.append(Planned(channel, DeliveryStatus.QUEUED, DIGEST))
        elif digest and Channel.EMAIL in wanted:
            rows.append(Planned(channel, DeliveryStatus.SUPPRESSED, "in the weekly digest"))
        elif channel is Channel.SMS and (hold := quiet_hold(at, tz, r.quiet_from, r.quiet_until)):
            rows.append(Planned(channel, DeliveryStatus.QUEUED, QUIET, hold))
        else:
            rows.append(Planned(channel, DeliveryStatus.QUEUED))
    return rows
