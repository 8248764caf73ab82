"""Composing a notification once for many recipients.

A message is rendered once per (template, school, context) with tags standing in for the
recipient (``[[ht:name]]``...); each recipient's values fill the tags (SendGrid "substitutions",
or locally for the outbox and SMS). Every email gets the footer: "sent on behalf of <school>" for
school-supplied families (P02, with the From name "<School> via Hometime"), and for optional
messages an unsubscribe link plus one-click List-Unsubscribe headers (P09, RFC 8058).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

import sqlalchemy as sa
from flask import current_app

from app.core import i18n
from app.core.extensions import db
from app.messaging import providers
from app.messaging.notify import render_part, unsubscribe_url
from app.messaging.policy import Recipient, in_ids
from app.messaging.sms_text import SmsTooLong, fit_sms
from app.models import Channel, DeliveryStatus, NotificationDelivery, Organisation, Pupil

UNSUBSCRIBE = "[[ht:unsubscribe]]"
DIGEST_TEMPLATE = "digest"


BODY, BODY_HTML, SUBJECT = "[[ht:body]]", "[[ht:body:h]]", "[[ht:subject]]"
SUBSTITUTIONS_LIMIT = 9000  # SendGrid allows 10,000 bytes of substitutions per recipient


class Personal(Exception):
    """The template uses more of ``user`` than the name: render it for each recipient."""


class _Who:
    """Stands in for the recipient while a message is rendered once for many people."""

    def __init__(self, html: bool):
        mark = ":h" if html else ""
        self.name = f"[[ht:name{mark}]]"
        self.first_name = f"[[ht:first_name{mark}]]"

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise Personal(attr)


def substitutions(person: Recipient, *, unsubscribe: str | None = None) -> dict[str, str]:
    first = (person.name or "").split(" ")[0]
    subs = {
        "[[ht:name]]": person.name or "",
        "[[ht:name:h]]": escape(person.name or ""),
        "[[ht:first_name]]": first,
        "[[ht:first_name:h]]": escape(first),
    }
    if unsubscribe:
        subs[UNSUBSCRIBE] = unsubscribe
    return subs


@dataclass
class Composed:
    from_name: str
    subject: str
    text: str
    html: str | None
    optional: bool
    organisation_id: int | None


def _context(
    template: str,
    org: Organisation | None,
    ctx: dict,
    html: bool,
    user_id: int | None,
    person: Recipient | None = None,
) -> dict:
    plain = {k: v for k, v in ctx.items() if not k.startswith("_")}
    extra = _objects(ctx)
    if template == DIGEST_TEMPLATE and user_id is not None:
        extra["items"] = digest_items(user_id, org, ctx.get("_week"))
    return {
        **plain,
        **extra,
        "user": person or _Who(html),
        "organisation": org,
        "base_url": current_app.config["BASE_URL"].rstrip("/"),
    }


def _objects(ctx: dict) -> dict:
    """Records named by ids in the context, for the template: ``topic_id`` gives ``topic``,
    ``pupil_id`` gives ``pupil`` (unless the context already has a value of that name)."""
    from app.models import WeeklyTopic

    found = {}
    cache = db.session.info.setdefault("hometime_message_records", {})  # misses included
    for key, name, model in (("topic_id", "topic", WeeklyTopic), ("pupil_id", "pupil", Pupil)):
        value = ctx.get(key) or (ctx.get("_pupil_id") if key == "pupil_id" else None)
        if name not in ctx and isinstance(value, int):
            if (model, value) not in cache:
                cache[(model, value)] = db.session.get(model, value)
            found[name] = cache[(model, value)]
    return found


def compose_email(
    template: str,
    org: Organisation | None,
    ctx: dict,
    user_id: int | None = None,
    person: Recipient | None = None,
) -> Composed:
    """Render an email: once for everyone with tags for the name (raises :class:`Personal` when
    the template needs more of the recipient), or for ``person`` with their real details."""
    on_behalf = bool(ctx.get("_on_behalf")) and org is not None
    optional = bool(ctx.get("_optional"))
    config = current_app.config
    text_ctx = _context(template, org, ctx, False, user_id, person)
    html_ctx = _context(template, org, ctx, True, user_id, person)
    text = render_part(template, "txt", **text_ctx) or ""
    footer = {
        "organisation": org,
        # a message that names the school and its data contact itself (in any language) needs no footer
        "on_behalf": on_behalf and not _names_school(text, org),
        "optional": optional,
        "unsubscribe_url": UNSUBSCRIBE,
    }
    text = f"{text}\n\n{render_part('_footer', 'txt', **footer)}".rstrip()
    html = render_part(template, "html", **html_ctx)
    if html is not None:
        foot = render_part("_footer", "html", **footer) or ""
        if "</body>" in html:
            html = html.replace("</body>", foot + "</body>")
        else:  # a fragment: say its language and direction, or a mail app shows Urdu left to right
            lang = i18n.current()
            html = f'<div lang="{lang.tag}" dir="{lang.direction}">\n{html}\n{foot}\n</div>'
    from_name = f"{org.name} via Hometime" if on_behalf and org is not None else config["MAIL_FROM_NAME"]
    subject = (render_part(template, "subject.txt", **text_ctx) or "").replace("\n", " ")
    return Composed(
        from_name=from_name,
        subject=subject,
        text=text,
        html=html,
        optional=optional,
        organisation_id=org.id if org else None,
    )


def _names_school(text: str, org: Organisation | None) -> bool:
    return org is not None and org.name in text and bool(org.dpo_email) and str(org.dpo_email) in text


def personalise(shared: Composed, person: Recipient) -> Composed:
    """A shared rendering with one person's name filled in (the unsubscribe tag stays)."""
    subs = substitutions(person)
    return Composed(
        from_name=shared.from_name,
        subject=providers.substitute(shared.subject, subs),
        text=providers.substitute(shared.text, subs),
        html=providers.substitute(shared.html, subs),
        optional=shared.optional,
        organisation_id=shared.organisation_id,
    )


def email_recipient(composed: Composed, person: Recipient, delivery_id: int) -> providers.Recipient:
    """One recipient of a composed email: their address, tag values and, for optional
    messages, the one-click unsubscribe headers (RFC 8058)."""
    if person.email is None:  # policy.channel_problem() holds back anyone without an address
        raise ValueError(f"user {person.id} has no email address")
    url = unsubscribe_url(person.id, composed.organisation_id) if composed.optional else None
    headers = {}
    if url:
        headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return providers.Recipient(
        to=person.email,
        name=person.name,
        headers=headers,
        substitutions=substitutions(person, unsubscribe=url),
        ref=str(delivery_id),
        organisation_id=composed.organisation_id,
    )


def email_batches(shared: Composed | None, personal: list, sender: str, category: str | None = None):
    """Provider batches (up to 1,000 recipients each) for one group of deliveries.

    ``shared``: one content for all, with tags; ``personal``: (row, person, Composed) rendered
    for each recipient, carried in per-recipient substitutions when small enough (so a batch is
    still one call), otherwise one call for that message."""
    size = providers.SENDGRID_BATCH
    if shared is not None:
        for i in range(0, len(personal), size):
            chunk = personal[i : i + size]
            yield providers.EmailBatch(
                from_email=sender,
                from_name=shared.from_name,
                subject=shared.subject,
                text=shared.text,
                html=shared.html,
                category=category,
                recipients=[email_recipient(shared, p, row.id) for row, p, _ in chunk],
            )
        return
    packed: dict[tuple, list] = defaultdict(list)
    alone = []
    for row, person, own in personal:
        r = email_recipient(own, person, row.id)
        body = {SUBJECT: own.subject, BODY: providers.substitute(own.text, r.substitutions)}
        if own.html is not None:
            body[BODY_HTML] = providers.substitute(own.html, r.substitutions)
        if len("".join(body.values()).encode()) > SUBSTITUTIONS_LIMIT:
            alone.append(([(row, r)], own))
        else:
            r.substitutions = body
            packed[(own.from_name, own.html is not None)].append((row, r, own))
    for (from_name, has_html), items in packed.items():
        for i in range(0, len(items), size):
            yield providers.EmailBatch(
                from_email=sender,
                from_name=from_name,
                subject=SUBJECT,
                text=BODY,
                html=BODY_HTML if has_html else None,
                category=category,
                recipients=[r for _, r, _ in items[i : i + size]],
            )
    for rows, own in alone:
        yield providers.EmailBatch(
            from_email=sender,
            from_name=own.from_name,
            subject=own.subject,
            text=own.text,
            html=own.html,
            category=category,
            recipients=[r for _, r in rows],
        )


def compose_sms(template: str, org: Organisation | None, ctx: dict, person: Recipient) -> str:
    """One recipient's SMS (two segments at most); it names the school that supplied the family."""
    body = render_part(template, "sms.txt", **_context(template, org, ctx, False, None, person))
    body = body or ""
    if ctx.get("_on_behalf") and org is not None and org.name not in body:
        body = f"{org.name} via Hometime: {body.removeprefix('Hometime: ')}"
    return fit_sms(body)


def digest_items(user_id: int, org: Organisation | None, week: str | None) -> list[str]:
    """The lines of one person's weekly digest: each collected message's ``.digest.txt``."""
    rows = db.session.execute(
        sa.select(NotificationDelivery.template, NotificationDelivery.context)
        .where(
            NotificationDelivery.user_id == user_id,
            NotificationDelivery.status == DeliveryStatus.QUEUED,
            NotificationDelivery.reason == f"in digest {week}",
            NotificationDelivery.organisation_id == (org.id if org else None),
        )
        .order_by(NotificationDelivery.created_at, NotificationDelivery.id)
    ).all()
    lines = []
    for template, ctx in rows:
        plain = {k: v for k, v in (ctx or {}).items() if not k.startswith("_")}
        line = render_part(
            template,
            "digest.txt",
            **{**plain, **_objects(ctx or {})},
            user=_Who(False),
            organisation=org,
            base_url=current_app.config["BASE_URL"].rstrip("/"),
        )
        if line:
            lines.append(line)
    return lines


def mail_from() -> str:
    return current_app.config["MAIL_FROM"]


def compose_group(ready, shared_batches, singles, texts, failed, shared_min: int) -> None:
    """Turn one group of deliveries with the same content into provider batches (email) or
    texts (SMS): a content shared by ``shared_min`` or more goes as one content with tags;
    smaller or personal ones are added to ``singles`` to be packed with others."""
    with i18n.in_language(ready[0][1].language):  # a group shares its recipients' language
        _compose_group(ready, shared_batches, singles, texts, failed, shared_min)


def _compose_group(ready, shared_batches, singles, texts, failed, shared_min: int) -> None:
    first = ready[0][0]
    ctx = first.context or {}
    org = db.session.get(Organisation, first.organisation_id) if first.organisation_id else None
    if first.channel is Channel.SMS:
        texts.extend(sms_texts(first.template, org, ctx, ready, failed))
        return
    try:
        shared = compose_email(first.template, org, ctx, first.user_id)
    except Personal:
        shared = None
    if shared is not None and len(ready) >= shared_min:
        shared_batches.extend(
            email_batches(shared, [(row, p, None) for row, p in ready], mail_from(), first.template)
        )
        return
    mine = []
    for row, person in ready:  # small or personal contents: packed together by the caller
        own = (
            personalise(shared, person)
            if shared is not None
            else compose_email(first.template, org, ctx, row.user_id, person)
        )
        mine.append((own.from_name, (row, person, own)))
    for from_name, item in mine:
        singles[from_name].append(item)


def preload(rows) -> list:
    """Load the schools, children and topics the chunk's messages name, in three queries."""
    from app.models import WeeklyTopic

    def ids(key):
        return {(r.context or {}).get(key) for r in rows} - {None}

    found = list(
        db.session.scalars(
            sa.select(Organisation).where(Organisation.id.in_({r.organisation_id for r in rows} - {None}))
        )
    )
    found += db.session.scalars(sa.select(Pupil).where(in_ids(Pupil.id, ids("pupil_id") | ids("_pupil_id"))))
    found += db.session.scalars(sa.select(WeeklyTopic).where(WeeklyTopic.id.in_(ids("topic_id"))))
    return found


def sms_texts(template, org, ctx, ready, failed: list) -> list:
    """(delivery id, mobile, text) for each recipient; texts that cannot fit go to ``failed``."""
    texts = []
    for row, person in ready:
        try:
            texts.append((row.id, person.mobile, compose_sms(template, org, ctx, person)))
        except SmsTooLong as exc:
            failed.append((row.id, f"SMS text: {exc}"))
    return texts
