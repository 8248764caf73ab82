"""A family's controls under each activity: the rating form ("we did this", five faces, one tap
each), what the family sent (comments as plain text, photos as thumbnails served by the
authorised photo route; hidden by the school: not shown) and the link to the small page that
sends more. Plain forms that work without JavaScript; with htmx only the block is swapped.

A family's home draws them for every child and activity, and as Jinja macros they were a third of
the page's rendering; here they are functions for every template (``rating_form``,
``sent_block``, ``sent_list``), their words looked up like a template's ``_()``. The link and
the sending form are never boosted: the sending page loads in full, so the phone's
photo-shrinking script (static/photo.js) runs, and a sent form goes back to this card (303) with
JavaScript on or off. Ids are per child and activity: siblings in one class share a card.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import url_for
from markupsafe import Markup, escape

from app.core import i18n
from app.core.contexts import current_request
from app.core.htmx import flashed_at
from app.core.security import csrf_token
from app.learning.engagement import face_buttons, face_words
from app.learning.starter_words import starter_words

_ = i18n.markup_gettext


# Put together as plain strings, each value escaped on the way in (``Markup.format`` runs Python's
# string.Formatter, slower than the Jinja macros these replace); Markup only once it is whole, as
# Markup + str would escape the str.


def _flashes(anchor: str, message, css: str) -> str:
    said = [("success", message)] if message else flashed_at(anchor)
    return "".join(
        f'<p class="{escape(css.format(kind=kind))}" role="status">{escape(text)}</p>' for kind, text in said
    )


def _activity_title(title: str) -> Markup | str:
    """An activity's title inside a sentence: the starter library's words translated, or what
    the school wrote, marked as English on a page in another language."""
    return starter_words(title) or i18n.as_written(title)


def rating_form(child, item, eng, error=None, partial: bool = False, message=None) -> Markup:
    """One activity's rating form for one child: the five faces, the chosen one pressed; a
    message (after a tap) or what was flashed for this card, and ``error`` (a refused rating).
    ``partial``: the response to a tap, swapped into a page that already holds the CSRF token."""
    head, fieldset = _rating_form_parts(
        i18n.current().code,
        current_request().script_root,
        child.id,
        child.first_name,
        item.id,
        bool(eng),
        eng.rating if eng else None,
    )
    csrf = "" if partial else f'<input type="hidden" name="csrf_token" value="{escape(csrf_token())}">'
    notes = _flashes(f"c-{child.id}-{item.id}", message, "flash")
    if error:
        notes += f'<p class="field-error" role="alert">{escape(error)}</p>'
    return Markup(f"{head}{csrf}{fieldset}{notes}\n</form>")


# What a form or link shows depends on the language, the child, the activity and what was sent
# or rated, the same on every visit: put together once per process (the key holds each of them,
# the words in ``language``, the page's), the CSRF token and any messages added each time.
@lru_cache(maxsize=4096)
def _rating_form_parts(
    language: str,
    script_root: str,
    child_id: int,
    first_name: str,
    item_id: int,
    engaged: bool,
    r: int | None,
) -> tuple[str, str]:
    url = escape(url_for("parents.rate", pupil_id=child_id, item_id=item_id))
    if engaged:
        legend = f"✓ {_('Done')}"
        if r:
            legend += f": {_('%(num)s of 5', num=r)} ({escape(face_words()[r - 1].lower())})"
        change = _("Change %(name)s's rating?", name=first_name)
        legend += f'.<span class="visually-hidden"> {change}</span>'
    else:
        legend = _("We did this! How did %(name)s like it?", name=first_name)
    return (
        f'<form method="post" action="{url}" hx-post="{url}" hx-swap="outerHTML">',
        f'\n<fieldset><legend>{legend}</legend>\n<div class="faces">{face_buttons(r)}\n</div>\n</fieldset>',
    )


def sent_list(child, item, eng) -> Markup:
    """What was sent about this activity for this child and is not hidden by the school."""
    shown = [c for c in eng.contributions if not c.hidden_at] if eng else []
    if not shown:
        return Markup("")
    entries = []
    for c in shown:
        if c.kind.value == "photo":
            title = item.activity.title
            alt = _(
                "Photo sent for %(name)s: %(activity)s",
                name=child.first_name,
                activity=starter_words(title) or title,
            )
            photo = escape(url_for("parents.photo", contribution_id=c.id, size="photo"))
            thumb = escape(url_for("parents.photo", contribution_id=c.id, size="thumb"))
            entry = (
                f'<a href="{photo}"><img src="{thumb}" class="thumb" width="160" height="160" alt="{alt}"'
                ' loading="lazy"></a>'
            )
        else:
            entry = str(escape(c.body))
        if c.promo_opt_in:
            entry += f' <span class="hint">{_("The school may use this to show what families do.")}</span>'
        entries.append(f"\n<li>{entry}</li>")
    return Markup(f'\n<ul class="list">{"".join(entries)}\n</ul>')


def sent_block(child, item, eng, message=None) -> Markup:
    """Under each activity: what was sent, and the link to the page with the form to send more,
    so the home page stays light."""
    key = f"{child.id}-{item.id}"
    link = _send_link(
        i18n.current().code,
        current_request().script_root,
        child.id,
        child.first_name,
        item.id,
        item.activity.title,
    )
    return Markup(
        f'<div id="s-{key}">{_flashes(f"s-{key}", message, "flash flash-{kind}")}\n'
        f"{sent_list(child, item, eng) if eng else ''}\n{link}\n</div>"
    )


def done_under(children, engagements: dict, problem: dict | None = None) -> Callable[[Any], Markup]:
    """What a family's home puts under each activity of a topic card (``topic_card``'s
    ``under``): ``done_blocks`` for the card's children, called by the card itself rather than
    through a ``{% call %}`` block, a macro run for every activity."""
    return lambda item: done_blocks(children, item, engagements, problem)


def done_blocks(children, item, engagements: dict, problem: dict | None = None) -> Markup:
    """Under one activity of a family's home, for each of the card's ``children``: the rating
    form (with ``problem``'s message when a rating for that child was refused) and what was sent.
    One call for the card's children rather than a loop of the template's own, which cost as
    much again as the forms it drew."""
    blocks = []
    for child in children:
        key = f"{child.id}-{item.id}"
        eng = engagements.get((child.id, item.id))
        error = problem["errors"].get("rating") if problem and problem["key"] == key else None
        blocks.append(
            f'\n<div class="done" id="c-{key}">\n{rating_form(child, item, eng, error=error)}\n'
            f"{sent_block(child, item, eng)}\n</div>"
        )
    return Markup("".join(blocks))


@lru_cache(maxsize=4096)
def _send_link(
    language: str, script_root: str, child_id: int, first_name: str, item_id: int, title: str
) -> str:
    url = escape(url_for("parents.send", pupil_id=child_id, item_id=item_id))
    about = _(
        "about %(activity)s for %(name)s",
        activity=_activity_title(title),
        name=first_name,
    )
    return (
        f'<p><a class="button secondary" href="{url}" hx-boost="false">{_("Send a comment or photo")}'
        f'<span class="visually-hidden"> {about}</span></a></p>'
    )


def init_app(app) -> None:
    app.jinja_env.globals.update(
        rating_form=rating_form, sent_block=sent_block, sent_list=sent_list, done_under=done_under
    )
