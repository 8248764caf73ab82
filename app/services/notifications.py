"""The notification service: render a message and hand it to the configured backend.

Templates live in ``templates/messages/``: ``<name>.subject.txt``, ``<name>.txt`` (email text),
``<name>.html`` (email HTML, optional) and ``<name>.sms.txt`` (SMS, optional).

The backends (outbox, SendGrid, Twilio), delivery records and the delivery policy are built out by
the notifications work; the entry points below are the contract the rest of the app uses.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from jinja2 import TemplateNotFound

from app.extensions import db
from app.models import Channel, OutboxMessage


@dataclass
class Message:
    subject: str
    text: str
    html: str | None
    sms: str | None


def render_message(template: str, **context) -> Message:
    def optional(name):
        try:
            return render_template(f"messages/{template}.{name}", **context).strip()
        except TemplateNotFound:
            return None

    return Message(subject=optional("subject.txt") or "", text=optional("txt") or "",
                   html=optional("html"), sms=optional("sms.txt"))


def send_now(channel: Channel, to: str, template: str, **context) -> None:
    """Send a transactional message (a sign-in link, a code) at once. Commits nothing itself:
    with the outbox backend the message is added to the current session."""
    message = render_message(template, **context)
    if channel is Channel.SMS:
        body = message.sms or message.text
        _outbox(Channel.SMS, to, None, body, None)
    else:
        _outbox(Channel.EMAIL, to, message.subject, message.text, message.html)


def _outbox(channel: Channel, to: str, subject, text, html) -> None:
    db.session.add(OutboxMessage(channel=channel, to=to, subject=subject, text=text, html=html,
                                 headers={"from": current_app.config["MAIL_FROM"]}))
