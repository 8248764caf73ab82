"""Development and demo tools (never in production): the outbox at /dev/outbox.

The blueprint is only registered outside production; the page also needs config SHOW_OUTBOX and
a signed-in member of staff, because the outbox holds sign-in links. A member of staff sees only
their own school's messages (P12): those sent on behalf of their schools, their own, and the
sign-in links and codes (sent on behalf of no school) of people who belong to their schools
alone. Parents and visitors see none.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape

from app.core.authz import staff_organisation_ids, staff_required
from app.core.extensions import db
from app.messaging import sms_text
from app.models import Guardianship, Organisation, OutboxMessage, Pupil, StaffMembership, User

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
    query = (
        sa.select(OutboxMessage).where(visible_to(current_user)).order_by(OutboxMessage.id.desc()).limit(50)
    )
    to = (request.args.get("to") or "").strip()[:254]
    if to:
        query = query.where(OutboxMessage.to == to)
    messages = db.session.scalars(query).all()
    return render_template(
        "dev/outbox.html", messages=messages, to=to, linkify=linkify, sms_info=sms_text.info
    )


def _people_only_of(org_ids: list[int]):
    """A select of the ids of accounts that belong to some of ``org_ids`` and to no other
    school: carers of their pupils (past included), their staff, a trust's staff."""
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
    inside = sa.case((links.c.org_id.in_(org_ids), 1), else_=0)
    return sa.select(links.c.user_id).group_by(links.c.user_id).having(sa.func.min(inside) == 1)


def visible_to(user: User):
    """A condition on :class:`OutboxMessage`: what this member of staff may read."""
    org_ids = staff_organisation_ids(user) or [-1]
    own = [a for a in (user.email, user.mobile) if a]
    theirs = sa.select(User.id).where(User.id.in_(_people_only_of(org_ids)))
    addresses = sa.union(
        sa.select(User.email).where(User.id.in_(theirs), User.email.is_not(None)),
        sa.select(User.mobile).where(User.id.in_(theirs), User.mobile.is_not(None)),
    )
    return sa.or_(
        OutboxMessage.organisation_id.in_(org_ids),
        OutboxMessage.to.in_(own or ["-"]),
        sa.and_(OutboxMessage.organisation_id.is_(None), OutboxMessage.to.in_(addresses)),
    )
