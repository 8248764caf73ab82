"""Webhooks from outside services: SendGrid's Signed Event Webhook (bounces and drops).

Public by design (no session, no form): each request proves itself by its signature, made with
SendGrid's private key and checked with the public key in SENDGRID_WEBHOOK_PUBLIC_KEY. Answers are
short plain text: 404 while no key is set, 403 without a valid signature, 400 for a body that is
not a JSON list of events, 413 over 1 MB, 204 when recorded.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.authz import public
from app.core.extensions import csrf, db, limiter
from app.messaging import email_events

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)  # the signature is the authority, not a session's token
limiter.exempt(bp)  # SendGrid posts bursts; a refused batch would only be posted again


def _answer(text: str, status: int):
    return text + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/sendgrid")
@public
def sendgrid():
    """Record SendGrid's bounce and drop events on the deliveries they name."""
    configured = current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not configured:
        return _answer("Not found.", 404)
    try:
        key = email_events.public_key(configured)
    except ValueError:
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY is not an elliptic-curve public key")
        return _answer("The webhook is not set up correctly.", 503)  # SendGrid tries again
    request.max_content_length = email_events.MAX_BODY
    too_big = _answer("The body is over 1 MB.", 413)
    if (request.content_length or 0) > email_events.MAX_BODY:
        return too_big
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return too_big
    if not email_events.verify(
        key,
        body,
        request.headers.get(EventWebhookHeader.SIGNATURE),
        request.headers.get(EventWebhookHeader.TIMESTAMP),
    ):
        return _answer("The signature is missing or does not match.", 403)
    try:
        events = email_events.parse(body)
    except email_events.BadEvents as exc:
        return _answer(exc.message, exc.status)
    email_events.record(events)
    db.session.commit()
    return "", 204
