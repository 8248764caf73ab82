"""The cookie choice (P06): necessary cookies only until the person chooses.

A banner (templates/_cookie_banner.html, in the layout) asks until a choice is made; it is a plain
form, so it works without JavaScript, and htmx only saves a page load. The choice can be changed
at any time on the cookies page (where the form is always shown) or in a carer's settings.

- Signed-in people: the choice is stored as consents (COOKIES_PERFORMANCE, COOKIES_FUNCTIONAL),
  with the notice version, appended on every change (P08).
- Everyone: the choice is also remembered in ``cookie_choice``, a small necessary cookie (listed
  on the cookies page), so a visitor who is not signed in is not asked on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app.core.authz import public
from app.core.htmx import add_vary, is_htmx
from app.models import ConsentPurpose

bp = Blueprint("cookies", __name__)

COOKIE = "cookie_choice"
MAX_AGE = 365 * 24 * 60 * 60
_VALUES = {"p0f0": (False, False), "p0f1": (False, True), "p1f0": (True, False), "p1f1": (True, True)}


@dataclass(frozen=True)
class Choice:
    made: bool
    performance: bool = False
    functional: bool = False

    @property
    def value(self) -> str:
        return f"p{int(self.performance)}f{int(self.functional)}"


@dataclass(frozen=True)
class ConsentStore:
    """Where a signed-in person's cookie choice lives as consents. Core imports no feature: the
    feature that owns consents (app.families.settings) registers its functions at app start."""

    states: Callable[[int], dict]  # user id -> {ConsentPurpose: bool}
    record: Callable[..., None]  # (user, performance, functional) -> None, owns its commit


def register_store(app, store: ConsentStore) -> None:
    """Hand ``app`` the functions that read and record a signed-in person's cookie consents."""
    app.extensions["cookie_consent_store"] = store


def _store() -> ConsentStore:
    store = current_app.extensions.get("cookie_consent_store")
    if store is None:
        raise RuntimeError("no cookie consent store registered (app.families.settings.init_app)")
    return store


def prime(states: dict) -> None:
    """Hand the signed-in person's consent states (already loaded by the page, or at least the
    two cookie purposes, by the user loader) to the banner, so the layout does not query them
    again. For this request only: a choice saved now shows on the very next page."""
    g._consent_states = states


def current_choice() -> Choice:
    """The visitor's cookie choice (cached for the request): their consents when signed in and
    decided, else the ``cookie_choice`` cookie, else not made."""
    cached = g.get("_cookie_choice")
    if cached is not None:
        return cached
    choice = None
    if current_user.is_authenticated:
        states = g.get("_consent_states")
        if states is None:
            states = g._consent_states = _store().states(current_user.id)
        performance = states.get(ConsentPurpose.COOKIES_PERFORMANCE)
        functional = states.get(ConsentPurpose.COOKIES_FUNCTIONAL)
        if performance is not None or functional is not None:
            choice = Choice(True, bool(performance), bool(functional))
    if choice is None:
        pair = _VALUES.get(request.cookies.get(COOKIE, ""))
        choice = Choice(True, *pair) if pair else Choice(False)
    g._cookie_choice = choice
    return choice


def remember(response, choice: Choice):
    """Set the necessary ``cookie_choice`` cookie on ``response``."""
    response.set_cookie(
        COOKIE,
        choice.value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def _safe_next(value: str | None) -> str | None:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value.rstrip("?") if not parts.scheme and not parts.netloc else None


@bp.record_once
def _register(state) -> None:
    state.app.jinja_env.globals["cookie_choice"] = current_choice


def _chosen() -> Choice | None:
    answer = request.form.get("choice", "")
    if answer == "all":
        return Choice(True, True, True)
    if answer == "necessary":
        return Choice(True, False, False)
    if answer == "custom":
        return Choice(True, request.form.get("performance") == "y", request.form.get("functional") == "y")
    return None


@bp.route("/choice", methods=["GET", "POST"])
@public
def choice():
    """Show (GET) or save (POST) the cookie choice; a saved choice goes back where it was made."""
    if request.method == "GET":
        return render_template("cookie_choice.html", choice=current_choice())
    chosen = _chosen()
    if chosen is None:
        return add_vary(
            make_response(
                render_template(
                    "cookie_choice.html",
                    choice=current_choice(),
                    error=gettext("Please choose which cookies to allow."),
                ),
                422,
            )
        )
    if current_user.is_authenticated:
        _store().record(current_user, chosen.performance, chosen.functional)
    g._cookie_choice = chosen
    message = (
        gettext("Your cookie choice is saved: performance and functional cookies allowed.")
        if chosen.performance and chosen.functional
        else gettext("Your cookie choice is saved: functional cookies allowed.")
        if chosen.functional
        else gettext("Your cookie choice is saved: performance cookies allowed.")
        if chosen.performance
        else gettext("Your cookie choice is saved: necessary cookies only.")
    )
    response: Response
    if is_htmx():
        response = make_response(render_template("_cookie_banner.html", saved=message))
    else:
        flash(message + " " + gettext("You can change it at any time."), "success")
        response = redirect(_safe_next(request.form.get("next")) or url_for("site.cookies"), 303)
    return add_vary(remember(response, chosen))
