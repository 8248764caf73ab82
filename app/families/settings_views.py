"""A carer's settings page: toggles for messages, consents and cookies (each a real form; htmx
swaps only the list), quiet hours, and their own name, email and mobile (P06, P08, P10, P24)."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import cookies
from app.core.authz import parent_required
from app.core.htmx import add_vary, flash_at, is_htmx, render
from app.core.i18n import clock_time
from app.families import settings as service
from app.families.family_forms import DetailsForm, QuietHoursForm, ToggleForm
from app.messaging.notify import DEFAULT_QUIET
from app.models import ConsentPurpose
from app.parents import bp


def _page(
    status: int = 200,
    block: str | None = None,
    *,
    message: str | None = None,
    changed: str | None = None,
    confirm: str | None = None,
    details_message: str | None = None,
    toggle_errors: dict | None = None,
    quiet: QuietHoursForm | None = None,
    details: DetailsForm | None = None,
):
    user = current_user
    states = service.consent_states(user.id)
    cookies.prime(states)
    quiet = quiet or QuietHoursForm(formdata=None, quiet_from=user.quiet_from, quiet_until=user.quiet_until)
    details = details or DetailsForm(formdata=None, name=user.name, email=user.email, mobile=user.mobile)
    return render(
        "parents/settings.html",
        block,
        status=status,
        toggles=service.TOGGLES,
        usual_quiet=DEFAULT_QUIET,
        on=service.toggle_states(user, states),
        message=message,
        changed=changed,
        confirm=confirm,
        details_message=details_message,
        toggle_errors=toggle_errors or {},
        quiet=quiet,
        details=details,
    )


def _saved(anchor: str, note: str, block: str, **extra):
    """The answer shown in the changed card: htmx swaps the block with it; a plain post goes
    back to the card (``#anchor``) with the message inside it."""
    if is_htmx():
        return _page(200, block, **extra)
    flash_at(note, anchor)
    return add_vary(redirect(url_for("parents.settings") + f"#{anchor}", 303))


# Turning these off takes something back that was given to the school: asked twice.
CONFIRM_OFF = {"promo"}


@bp.get("/settings")
@parent_required
def settings():
    """Messages, privacy choices, cookies and your details."""
    confirm = request.args.get("confirm")
    return _page(confirm=confirm if confirm in CONFIRM_OFF else None)


@bp.post("/settings/quiet-hours")
@parent_required
def quiet_hours():
    form = QuietHoursForm()
    if not form.validate_on_submit():
        return _page(422, "toggles", quiet=form)
    start, end = (None, None) if form.usual.data else (form.quiet_from.data, form.quiet_until.data)
    try:
        service.set_quiet_hours(current_user, start, end)
    except service.SettingError as error:
        getattr(form, error.field).errors.append(error.message)
        return _page(422, "toggles", quiet=form)
    first, last = (start, end) if start and end else DEFAULT_QUIET
    message = _(
        "Quiet hours saved: no texts from %(start)s until %(end)s.",
        start=clock_time(first),
        end=clock_time(last),
    )
    return _saved("quiet", message, "toggles", message=message, changed="quiet")


@bp.post("/settings/details")
@parent_required
def details():
    """Correct your own name, email and mobile (P10, P24)."""
    form = DetailsForm()
    if not form.validate_on_submit():
        return _page(422, "details", details=form)
    try:
        changed = service.correct_details(
            current_user, name=form.name.data, email=form.email.data, mobile=form.mobile.data
        )
    except service.SettingError as error:
        getattr(form, error.field).errors.append(error.message)
        return _page(422, "details", details=form)
    message = (
        _("Thank you: your details are saved.") if changed else _("Thank you for checking your details.")
    )
    return _saved("details", message, "details", details_message=message)


@bp.post("/settings/details/still-right")
@parent_required
def details_still_right():
    """The home page's one-tap answer to "are your details still right?": yes (P24)."""
    user = current_user
    service.correct_details(user, name=user.name, email=user.email, mobile=user.mobile)
    flash_at(_("Thank you for checking your details."), "strip")
    return add_vary(redirect(url_for("parents.home"), 303))


@bp.post("/settings/<name>")
@parent_required
def setting(name: str):
    """Turn one setting on or off; every consent change is recorded (P08)."""
    if name not in service.BY_NAME:
        abort(404)
    wanted = ToggleForm().wanted()
    if wanted is None:
        return _page(422, "toggles", toggle_errors={name: _("Please use the Turn on or Turn off button.")})
    if name in CONFIRM_OFF and not wanted and request.form.get("confirm") != "yes":
        if is_htmx():
            return _page(200, "toggles", confirm=name)
        return add_vary(redirect(url_for("parents.settings", confirm=name) + f"#t-{name}", 303))
    try:
        message = service.change(current_user, name, wanted)
    except service.SettingError as error:
        return _page(422, "toggles", toggle_errors={name: error.message})
    response = _saved(f"t-{name}", message, "toggles", message=message, changed=name)
    if name in ("performance", "functional"):
        states = service.consent_states(current_user.id)
        cookies.remember(
            response,
            cookies.Choice(
                True,
                states[ConsentPurpose.COOKIES_PERFORMANCE] is True,
                states[ConsentPurpose.COOKIES_FUNCTIONAL] is True,
            ),
        )
    return response
