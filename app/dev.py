"""Development and demo tools (never in production): the outbox at /dev/outbox.

The blueprint is only registered outside production; the page also needs config SHOW_OUTBOX and
a signed-in member of staff, because the outbox holds every family's sign-in links.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape

from app.authz import staff_required
from app.extensions import db
from app.models import OutboxMessage

bp = Blueprint("dev", __name__)
_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str | None) -> Markup:
    """Escape a message's text and make its links clickable (sign-in links in the demo)."""
    text, parts, last = text or "", [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        parts += [escape(text[last:match.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        last = match.start() + len(url)
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.get("/outbox")
@staff_required()
def outbox():
    """The newest messages the outbox backend 'sent' (optionally only those to one address)."""
    if not current_app.config.get("SHOW_OUTBOX") or current_app.config["ENV_NAME"] == "production":
        abort(404)
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)
    to = (request.args.get("to") or "").strip()[:254]
    if to:
        query = query.where(OutboxMessage.to == to)
    messages = db.session.scalars(query).all()
    return render_template("dev/outbox.html", messages=messages, to=to, linkify=linkify)
