"""A family's settings, each drawn as a small form of its own: a button that turns it on or
off (htmx swaps the list). The answer (``message``) shows inside the card; ``confirm``: turning
it off needs a second tap, after saying what will happen.

This was the macro of ``parents/_settings.html``; the settings page draws seven of them, and
each call through Jinja's runtime (its ``set``, loop and conditionals) was a quarter of the page.
The same text, byte for byte, is written here; ``tests/families/test_toggle_cards.py`` draws every
state with the old macro (kept in ``tests/fixtures/settings_macros``) and with this.
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from app.core import i18n
from app.core.htmx import flashed_at
from app.core.security import csrf_token

_ = i18n.markup_gettext  # a template's _(): `make translations` finds the words


def toggle(t, on, error=None, message=None, confirm=False) -> Markup:
    """One setting ``t`` (``settings.Toggle``), on or off, with its error or message."""
    url = escape(url_for("parents.setting", name=t.name))
    name, label = escape(t.name), escape(t.label)
    parts = [
        f'<form id="t-{name}" class="card" method="post" action="{url}#t-{name}" hx-post="{url}" '
        'hx-target="#toggles" hx-swap="outerHTML">\n'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token())}">\n'
        f'<input type="hidden" name="on" value="{"0" if on else "1"}">\n'
        f"<p><strong>{label}</strong>: {_('on') if on else _('off')}</p>\n"
        f'<p class="hint">{escape(t.hint)}</p>'
    ]
    flashes = [("success", message)] if message else flashed_at("t-" + str(t.name))
    parts += [
        f'<p class="flash flash-{escape(kind)}" role="status">{escape(text)}</p>' for kind, text in flashes
    ]
    if error:
        parts.append(f'<p class="field-error" role="alert">{escape(error)}</p>')
    if confirm and on:
        warning = _(
            "Every photo and comment you have sent is taken out of the school's newsletters and "
            "displays at once, and the school can't use new ones. This deletes nothing: the school "
            "still sees what you sent, as before. (If you close your account, we delete your "
            "account's data 90 days later.)"
        )
        parts.append(
            '\n<div class="banner" role="alert">\n'
            f"<p><strong>{_('Turn this off?')}</strong> {warning}</p>\n"
            f'<p><button type="submit" id="tb-{name}" name="confirm" value="yes" class="danger">'
            f'{_("Yes, turn it off")}<span class="visually-hidden">: {label}</span></button></p>\n'
            f'<p><a href="{escape(url_for("parents.settings"))}#t-{name}">{_("No, leave it on")}</a></p>\n'
            "</div>"
        )
    else:
        secondary = ' class="secondary"' if on else ""
        parts.append(
            f'\n<button type="submit" id="tb-{name}"{secondary}>{_("Turn off") if on else _("Turn on")}'
            f'<span class="visually-hidden">: {label}</span></button>'
        )
    parts.append("\n</form>")
    return Markup("".join(parts))
