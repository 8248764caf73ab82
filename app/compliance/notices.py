"""Privacy-notice versions (P07): publishing a version with a plain-language summary of what
changed, telling everyone, and the banner each signed-in person sees until they acknowledge it.

A *scope* is where a notice applies: one school (``organisation_id``) or the whole platform
(``None``). A person belongs to the platform scope and to each school they work at (a trust DPO:
every school of the trust) or have a child at. Within a scope, a person has *seen* every version
up to the newest one they acknowledged (a NOTICE_ACK consent record) or joined under (their
SERVICE consent names the notice). What comes after that is unseen: when any unseen version is
major, a prominent banner asks them to acknowledge the newest; when all are minor, a small
dismissible line links to it. Acknowledging or dismissing records NOTICE_ACK with that version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import SQLAlchemyError

from app.core import consent
from app.core.audit import log_event
from app.core.authz import NOT_LOADED, is_office, layout_column, layout_value
from app.core.contexts import current_request
from app.core.errors import ServiceError
from app.core.extensions import db
from app.core.transactions import transaction
from app.messaging import notify as notifications
from app.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Guardianship,
    Organisation,
    PrivacyNotice,
    Pupil,
    StaffMembership,
    User,
    UserKind,
    UserStatus,
    json_moment,
    utcnow,
)

log = logging.getLogger(__name__)
SEEN = (ConsentPurpose.NOTICE_ACK, ConsentPurpose.SERVICE)
STAFF_BLUEPRINTS = ("teachers", "office")  # staff at work: no banner (see notice_banner)


class NoticeError(ServiceError):
    """A version that cannot be published or acknowledged; ``message`` is shown."""

    default_status = 422


@dataclass
class Pending:
    """What one person has not yet seen in one scope."""

    notice: PrivacyNotice | NoticeVersion  # the newest version: the one to read and acknowledge
    owner: str  # "Hometime" or the school's name
    major: bool  # any unseen version is major
    changes: list[str] = field(default_factory=list)  # each unseen version's summary, oldest first


def check(
    actor: User, organisation_id: int, *, version: str, summary: str, body: str
) -> tuple[Organisation, str, str, str]:
    """What publishing would refuse, checked without writing (the preview asks it too); returns
    the school and the trimmed version, summary and body."""
    version, summary, body = (version or "").strip(), (summary or "").strip(), (body or "").strip()
    org = db.session.get(Organisation, organisation_id)
    if org is None or not is_office(actor, org.id):
        raise NoticeError("Choose the school.", field="organisation_id", status=404)
    if not version or len(version) > 20:
        raise NoticeError("Give the version a short name, like 2.0 (up to 20 characters).", field="version")
    if db.session.scalar(
        sa.select(PrivacyNotice.id).where(
            PrivacyNotice.organisation_id == org.id, PrivacyNotice.version == version
        )
    ):
        raise NoticeError(
            f"Version {version} already exists; give the new one another name.", field="version"
        )
    if not summary:
        raise NoticeError("Say in plain words what changed: everyone is shown this summary.", field="summary")
    if not body:
        raise NoticeError("Paste the full text of the notice.", field="body")
    return org, version, summary, body


def publish(
    actor: User,
    organisation_id: int,
    *,
    version: str,
    summary: str,
    body: str,
    major: bool,
    now: datetime | None = None,
) -> PrivacyNotice:
    """Publish a new version of a school's notice and tell everyone it concerns (notify,
    template ``notice_changed``). One transaction."""
    with transaction():
        org, version, summary, body = check(
            actor, organisation_id, version=version, summary=summary, body=body
        )
        notice = PrivacyNotice(
            organisation_id=org.id,
            version=version,
            summary=summary,
            body=body,
            major=bool(major),
            published_at=now or utcnow(),
            created_by_id=actor.id,
        )
        db.session.add(notice)
        db.session.flush()
        notifications.notify(
            "notice_changed",
            event_key=f"notice:{notice.id}:published",
            user_ids=audience_ids(org.id),
            organisation_id=org.id,
            context={"notice_id": notice.id, "version": version, "major": notice.major, "summary": summary},
        )
        log_event(
            "notice.published",
            actor,
            subject=f"notice:{notice.id}",
            detail=f"version {version}" + (" (major)" if notice.major else ""),
            organisation_id=org.id,
        )
    return notice


def audience_ids(organisation_id: int | None) -> list[int]:
    """Everyone a notice concerns: the school's staff (and its trust's DPOs) and the carers of
    its children; for a platform notice, every account. Active and invited accounts only."""
    alive = User.status.in_([UserStatus.ACTIVE, UserStatus.INVITED])
    if organisation_id is None:
        return list(db.session.scalars(sa.select(User.id).where(alive).order_by(User.id)))
    trust_id = sa.select(Organisation.trust_id).where(Organisation.id == organisation_id)
    staff = sa.select(StaffMembership.user_id).where(
        sa.or_(
            StaffMembership.organisation_id == organisation_id,
            sa.and_(
                StaffMembership.trust_id.is_not(None), StaffMembership.trust_id == trust_id.scalar_subquery()
            ),
        )
    )
    carers = (
        sa.select(Guardianship.parent_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(
            Pupil.organisation_id == organisation_id,
            Guardianship.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
    )
    return list(
        db.session.scalars(
            sa.select(User.id).where(alive, sa.or_(User.id.in_(staff), User.id.in_(carers))).order_by(User.id)
        )
    )


def _scope_ids(user: User):
    """A select of the schools whose notices concern ``user``."""
    return _scope_of(user.id, sa.true() if user.kind is UserKind.STAFF else sa.false())


def _scope_of(user_id, is_staff):
    """The schools whose notices concern the person ``user_id``: as staff, where they work (and
    every school of their trust); else the schools of their children. ``user_id`` and
    ``is_staff`` are values or columns of ``User`` (for the user loader's query)."""
    m, o = sa.orm.aliased(StaffMembership), sa.orm.aliased(Organisation)
    g_, p = sa.orm.aliased(Guardianship), sa.orm.aliased(Pupil)
    own = (
        sa.select(m.organisation_id)
        .where(m.user_id == user_id, m.organisation_id.is_not(None), is_staff)
        .correlate(User)
    )
    trust = (
        sa.select(o.id)
        .join(m, m.trust_id == o.trust_id)
        .where(m.user_id == user_id, is_staff)
        .correlate(User)
    )
    family = (
        sa.select(p.organisation_id)
        .join(g_, g_.pupil_id == p.id)
        .where(g_.parent_id == user_id, g_.removed_at.is_(None), p.erased_at.is_(None), sa.not_(is_staff))
        .correlate(User)
    )
    return sa.union(own, trust, family)


@dataclass(frozen=True)
class NoticeVersion:
    """The parts of a published version the banner shows (read with the user's row)."""

    id: int
    organisation_id: int | None
    version: str
    summary: str
    major: bool
    published_at: datetime


def _banner_wanted() -> bool:
    """A page that can show the banner: a GET outside the staff work pages."""
    here = current_request()
    return here.method == "GET" and here.blueprint not in STAFF_BLUEPRINTS


@layout_column("notices", _banner_wanted)
def _banner_column():
    """For the banner, in the user loader's query: every published version that concerns the
    person, oldest first, as JSON ``[id, school id, school name, version, summary, major,
    published_at, seen]``."""
    n, o, c = sa.orm.aliased(PrivacyNotice), sa.orm.aliased(Organisation), sa.orm.aliased(ConsentRecord)
    seen = (
        sa.exists()
        .where(  # each purpose compared alone: ``in_`` would be rewritten into the text on every run
            c.user_id == User.id,
            c.notice_id == n.id,
            sa.or_(*(c.purpose == p for p in SEEN)),
            c.granted.is_(True),
        )
        .correlate(User, n)
    )
    item = sa.func.json_build_array(
        n.id, n.organisation_id, o.name, n.version, n.summary, n.major, n.published_at, seen
    )
    return (
        sa.select(sa.func.json_agg(aggregate_order_by(item, n.published_at, n.id)))
        .select_from(n)
        .outerjoin(o, o.id == n.organisation_id)
        .where(
            n.published_at.is_not(None),
            sa.or_(
                n.organisation_id.is_(None),
                n.organisation_id.in_(_scope_of(User.id, User.kind == UserKind.STAFF)),
            ),
        )
        .correlate(User)
        .scalar_subquery()
    )


def _from_json(rows) -> list[tuple[NoticeVersion, str | None, bool]]:
    found = []
    for id_, org_id, name, version, summary, major, published, was_seen in rows or []:
        at = json_moment(published)
        found.append((NoticeVersion(id_, org_id, version, summary, major, at), name, bool(was_seen)))
    return found


def pending_for(user: User) -> list[Pending]:
    """The notice versions ``user`` has not seen, one entry per scope (one query)."""
    seen = sa.exists().where(
        ConsentRecord.user_id == user.id,
        ConsentRecord.notice_id == PrivacyNotice.id,
        ConsentRecord.purpose.in_(SEEN),
        ConsentRecord.granted.is_(True),
    )
    rows = db.session.execute(
        sa.select(PrivacyNotice, Organisation.name, seen.label("seen"))
        .outerjoin(Organisation, Organisation.id == PrivacyNotice.organisation_id)
        .where(
            PrivacyNotice.published_at.is_not(None),
            sa.or_(
                PrivacyNotice.organisation_id.is_(None), PrivacyNotice.organisation_id.in_(_scope_ids(user))
            ),
        )
        .order_by(PrivacyNotice.published_at, PrivacyNotice.id)
    ).all()
    return _pending([tuple(r) for r in rows])


def _pending(rows: list[tuple]) -> list[Pending]:
    """(version, school name, seen) rows, oldest first, as what is unseen in each scope."""
    scopes: dict[int | None, list] = {}
    for notice, name, was_seen in rows:
        scopes.setdefault(notice.organisation_id, []).append((notice, name, was_seen))
    pending = []
    for versions in scopes.values():
        last_seen = max((i for i, (_, _, s) in enumerate(versions) if s), default=-1)
        unseen = versions[last_seen + 1 :]
        if unseen:
            notice, name, _ = unseen[-1]
            pending.append(
                Pending(
                    notice,
                    name or "Hometime",
                    any(n.major for n, _, _ in unseen),
                    [n.summary for n, _, _ in unseen],
                )
            )
    return sorted(pending, key=lambda p: (not p.major, p.notice.published_at))


def acknowledge(user: User, notice_id: int) -> ConsentRecord:
    """Record that ``user`` has read (major) or dismissed (minor) this version: a NOTICE_ACK
    consent record naming it. Only a version that concerns them (else a 404 refusal)."""
    with transaction():
        notice = db.session.scalar(
            sa.select(PrivacyNotice).where(
                PrivacyNotice.id == notice_id,
                PrivacyNotice.published_at.is_not(None),
                sa.or_(
                    PrivacyNotice.organisation_id.is_(None),
                    PrivacyNotice.organisation_id.in_(_scope_ids(user)),
                ),
            )
        )
        if notice is None:
            raise NoticeError("That notice was not found.", status=404)
        row = consent.record(
            user.id,
            ConsentPurpose.NOTICE_ACK,
            True,
            method=ConsentMethod.WEB_FORM,
            organisation_id=notice.organisation_id,
            on_behalf_of="self",
        )
        row.notice_id = notice.id  # this version, even if a newer one appeared meanwhile
    return row


def notice_banner() -> list[Pending]:
    """For the layout: what the signed-in person has not seen (cached for the request; nothing
    for visitors, and nothing rather than an error page if the database is unavailable)."""
    if not has_request_context() or not current_user.is_authenticated:
        return []
    if request.blueprint in STAFF_BLUEPRINTS:
        return []  # the notice speaks to families; staff read it on their privacy page, not at work
    cached = g.get("_notice_banner")
    if cached is None:
        loaded = layout_value("notices")
        try:
            if loaded is not NOT_LOADED:  # read with the user's row (_banner_column)
                cached = _pending(_from_json(loaded))
            else:
                cached = pending_for(current_user)
        except SQLAlchemyError:
            log.warning("could not load the notice banner", exc_info=True)
            cached = []
        g._notice_banner = cached
    return cached


def init_app(app) -> None:
    """Give every template ``notice_banner()`` (templates/_notice_banner.html calls it)."""
    app.context_processor(lambda: {"notice_banner": notice_banner})
