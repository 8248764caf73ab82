"""Development and demo tools (never in production): the outbox at /dev/outbox.

The blueprint is only registered outside production; the page also needs config SHOW_OUTBOX and
a signed-in member of staff, because the outbox holds sign-in links. A member of staff sees only
their own school's messages (P12): those sent on behalf of their schools, their own, and the
sign-in links and codes (sent on behalf of no school) of people who belong to their schools
alone. Parents and visitors see none.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.dialects import postgresql

from app.core.authz import staff_organisation_ids, staff_required
from app.core.direct_reads import DirectRead
from app.messaging import sms_text
from app.models import (
    Channel,
    Guardianship,
    Organisation,
    OutboxMessage,
    Pupil,
    StaffMembership,
    User,
    bound_list,
)

bp = Blueprint("dev", __name__)
_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str | None) -> Markup:
    """Escape a message's text and make its links clickable (sign-in links in the demo)."""
    text, parts, last = text or "", [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        parts += [escape(text[last : match.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        last = match.start() + len(url)
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.get("/outbox")
@staff_required()
def outbox():
    """The newest messages the outbox backend 'sent' (optionally only those to one address)."""
    if not current_app.config.get("SHOW_OUTBOX") or current_app.config["ENV_NAME"] == "production":
        abort(404)
    to = (request.args.get("to") or "").strip()[:254]
    params = _viewer_params(current_user) | ({"to": to} if to else {})
    messages = [_Shown._make(row) for row in _outbox_read(bool(to)).run(params)]
    return render_template(
        "dev/outbox.html", messages=messages, to=to, linkify=linkify, sms_info=sms_text.info
    )


class _Shown(NamedTuple):
    """What the outbox page shows of a message."""

    id: int
    channel: Channel
    to: str
    subject: str | None
    text: str
    headers: dict | None
    created_at: datetime


@cache
def _outbox_read(to_one_address: bool) -> DirectRead:
    """The newest fifty messages the viewer may read (``visible_to``), to the address ``:to``
    when ``to_one_address``: compiled once per process for each."""
    m = OutboxMessage
    query = sa.select(m.id, m.channel, m.to, m.subject, m.text, m.headers, m.created_at).where(visible_to())
    if to_one_address:
        query = query.where(m.to == sa.bindparam("to", type_=m.to.type))
    return DirectRead(query.order_by(m.id.desc()).limit(50))


def _viewer_params(user: User) -> dict:
    """``visible_to``'s values for this member of staff: their schools and their own addresses."""
    return {
        "org_ids": staff_organisation_ids(user),
        "own": [a for a in (user.email, user.mobile) if a],
    }


def _people_only_of(org_ids):
    """A select of the ids of accounts that belong to some of ``org_ids`` (an array) and to no
    other school: carers of their pupils (past included), their staff, a trust's staff."""
    g, m = Guardianship, StaffMembership
    links = sa.union_all(
        sa.select(g.parent_id.label("user_id"), Pupil.organisation_id.label("org_id")).join(
            Pupil, Pupil.id == g.pupil_id
        ),
        sa.select(m.user_id.label("user_id"), m.organisation_id.label("org_id")).where(
            m.organisation_id.is_not(None)
        ),
        sa.select(m.user_id.label("user_id"), Organisation.id.label("org_id")).join(
            Organisation, Organisation.trust_id == m.trust_id
        ),
    ).subquery()
    inside = sa.case((links.c.org_id == sa.any_(org_ids), 1), else_=0)
    return sa.select(links.c.user_id).group_by(links.c.user_id).having(sa.func.min(inside) == 1)


def visible_to():
    """A condition on :class:`OutboxMessage`: what a member of staff may read, given their
    schools (``:org_ids``) and their own email address and mobile number (``:own``), both
    arrays (``_viewer_params``).

    The addresses of the people only of those schools are one select of both columns
    (``unnest``), so that part of the statement is planned once, not once per column. Planning
    the two copies took a millisecond, on every request until ``app/core/plans.py`` had each
    prepared statement planned once."""
    org_ids = bound_list("org_ids", sa.Integer)
    own = bound_list("own", OutboxMessage.to.type)
    # users first: unnest(ARRAY[users.email, users.mobile]) after it may name its columns
    address = sa.func.unnest(postgresql.array([User.email, User.mobile])).column_valued("address")
    addresses = (
        sa.select(address)
        .select_from(User)
        .where(User.id.in_(_people_only_of(org_ids)), address.is_not(None))
    )
    return sa.or_(
        OutboxMessage.organisation_id == sa.any_(org_ids),
        OutboxMessage.to == sa.any_(own),
        sa.and_(OutboxMessage.organisation_id.is_(None), OutboxMessage.to.in_(addresses)),
    )
