"""A carer's own settings: reminders, the weekly digest, quiet hours, consents, cookie choices,
and correcting their own details.

- Every change to a consent appends a ConsentRecord with the notice in force (P08, through
  :func:`app.core.consent.record`); withdrawing the promotion consent takes every photo and
  comment already sent out of promotional use at once (``consent.record`` does that).
- Cookie choices (P06) are consents too: performance and functional.
- Corrected details (P10, P24) are recorded in the activity log as ``details_corrected`` naming
  the field (never the old or new value), and ``details_checked_at`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.core import consent
from app.core.audit import log_event
from app.core.authz import NOT_LOADED, layout_column, layout_value
from app.core.contexts import current_request, signed_in_user
from app.core.errors import FieldError
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.models import ConsentMethod, ConsentPurpose, Guardianship, Pupil, User, utcnow

EMAIL_TAKEN = _l(
    "That email address is already used by another Hometime account. Please use a "
    "different one, or ask your school to help."
)


class SettingError(FieldError):
    """A change we refuse; ``field`` names the form field, ``message`` is for the carer."""


@dataclass(frozen=True)
class Toggle:
    name: str
    label: str | LazyString
    hint: str | LazyString
    attr: str | None = None  # a preference column on User
    purpose: ConsentPurpose | None = None  # a consent, recorded on every change


TOGGLES = (
    Toggle(
        "email",
        _l("Email messages"),
        _l("New topics, reminders and awards by email."),
        attr="email_notifications",
    ),
    Toggle(
        "sms",
        _l("Text message reminders"),
        _l("Short reminders by text to your mobile, never during your quiet hours."),
        attr="sms_notifications",
        purpose=ConsentPurpose.SMS_REMINDERS,
    ),
    Toggle(
        "digest",
        _l("One weekly email instead of each message"),
        _l("Messages that can wait are collected into one email a week."),
        attr="weekly_digest",
    ),
    Toggle(
        "promo",
        _l("Photos and comments to show what families do"),
        _l(
            "When this is on, you choose for each photo or comment you send whether the school may "
            "use it, for example in a newsletter. Turning it off takes every photo and comment you "
            "have sent out of such use at once."
        ),
        purpose=ConsentPurpose.PROMO_PHOTOS,
    ),
    Toggle(
        "news",
        _l("Other news"),
        _l(
            "News from the school and Hometime beyond home learning. Each email has a one-click "
            "unsubscribe link."
        ),
        purpose=ConsentPurpose.NEWS,
    ),
    Toggle(
        "performance",
        _l("Page-speed measuring (performance cookies)"),
        _l("Would help us see how quickly pages load. Hometime sets none at the moment."),
        purpose=ConsentPurpose.COOKIES_PERFORMANCE,
    ),
    Toggle(
        "functional",
        _l("Videos that play inside Hometime (functional cookies)"),
        _l(
            "Let videos from YouTube or Vimeo play inside Hometime; those sites then set their own "
            "cookies on this device."
        ),
        purpose=ConsentPurpose.COOKIES_FUNCTIONAL,
    ),
)
BY_NAME = {t.name: t for t in TOGGLES}
COOKIE_PURPOSES = (ConsentPurpose.COOKIES_PERFORMANCE, ConsentPurpose.COOKIES_FUNCTIONAL)


PER_ITEM = (ConsentPurpose.CONTRIBUTION_PROMO,)  # decided photo by photo, not a setting


def consent_states(user_id: int) -> dict[ConsentPurpose, bool | None]:
    """Each purpose's latest decision for one person (None: never decided), in one query (none on
    a family's page, where the user loader read them: ``_consents_column``); the per-item
    promotion opt-in is left out (it is decided item by item)."""
    user = signed_in_user()
    if user.is_authenticated and user.id == user_id:
        loaded = layout_value("consents")
        if loaded is not NOT_LOADED:
            return consent.states((loaded or {}).items())
    return consent.decisions(user_id, leave_out=PER_ITEM)


def _family_page() -> bool:
    """A page of the family's own that reads their consents and saves none (a GET)."""
    here = current_request()
    return here.method == "GET" and here.blueprint == "parents"


@layout_column("consents", _family_page)
def _consents_column():
    """In the user loader's query: each purpose's latest decision, as JSON ``{purpose: granted}``
    (the per-item promotion opt-in left out)."""
    latest = consent.latest_decisions(User.id, PER_ITEM).correlate(User).subquery()
    return sa.select(sa.func.json_object_agg(latest.c.purpose, latest.c.granted)).scalar_subquery()


def toggle_states(user: User, consents: dict[ConsentPurpose, bool | None]) -> dict[str, bool]:
    """Whether each toggle is on for ``user``."""
    on = {}
    for toggle in TOGGLES:
        value = True
        if toggle.attr:
            value = bool(getattr(user, toggle.attr))
        if toggle.purpose:
            value = value and consents.get(toggle.purpose) is True
        on[toggle.name] = value
    return on


def controller_id(user: User) -> int | None:
    """The school responsible for this carer's data (their first linked child's)."""
    return db.session.scalar(
        sa.select(Pupil.organisation_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.parent_id == user.id, Guardianship.removed_at.is_(None))
        .order_by(Guardianship.id)
        .limit(1)
    )


def _record(user: User, purpose: ConsentPurpose, granted: bool, org_id: int | None) -> None:
    consent.record(
        user.id,
        purpose,
        granted,
        method=ConsentMethod.WEB_FORM,
        organisation_id=org_id,
        on_behalf_of="self",
        recorded_by_id=user.id,
    )


def change(user: User, name: str, on: bool) -> str:
    """Turn one setting on or off (committed); return a short confirmation."""
    toggle = BY_NAME[name]
    if on and name == "sms" and not user.mobile:
        raise SettingError("sms", _("Please add your mobile number under “Your details” first."))
    if on and name == "email" and not user.email:
        raise SettingError("email", _("Please add your email address under “Your details” first."))
    if toggle.attr:
        setattr(user, toggle.attr, on)
    if toggle.purpose:
        _record(user, toggle.purpose, on, controller_id(user))
    db.session.commit()
    if on:
        return _("%(setting)s: on.", setting=str(toggle.label))
    return _("%(setting)s: off.", setting=str(toggle.label))


def set_quiet_hours(user: User, start: time | None, end: time | None) -> None:
    """Set (or, with both None, reset to the usual 20:00–08:00) the hours without texts."""
    if (start is None) != (end is None):
        raise SettingError("quiet_from", _("Please give both times, or neither for the usual hours."))
    if start is not None and start == end:
        raise SettingError(
            "quiet_until", _("The quiet hours must end at a different time from when they start.")
        )
    user.quiet_from, user.quiet_until = start, end
    db.session.commit()


def record_cookie_choice(user: User, performance: bool, functional: bool) -> None:
    """Record a cookie choice as consents (P06): a record for each category that changed or was
    never decided. Committed."""
    states = consent_states(user.id)
    org_id = None
    for purpose, granted in zip(COOKIE_PURPOSES, (performance, functional), strict=True):
        if states[purpose] is not granted:
            org_id = org_id or controller_id(user)
            _record(user, purpose, granted, org_id)
    db.session.commit()


def correct_details(user: User, *, name: str, email: str | None, mobile: str | None) -> list[str]:
    """Save the carer's own name, email and mobile (already validated and normalised by the form)
    and record which fields changed. Returns the changed field names. Committed."""
    email = (email or "").strip().lower() or None
    mobile = mobile or None
    if not email and not mobile:
        raise SettingError(
            "email", _("Please give an email address or a mobile number, so your school can reach you.")
        )
    if (
        email
        and email != (user.email or "").lower()
        and db.session.scalar(
            sa.select(User.id).where(sa.func.lower(User.email) == email, User.id != user.id)
        )
    ):
        raise SettingError("email", str(EMAIL_TAKEN))
    new = {"name": name.strip(), "email": email, "mobile": mobile}
    changed = [field for field, value in new.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, new[field])
        log_event("details_corrected", user, subject=f"user:{user.id}", detail=field)
    if not mobile and user.sms_notifications:
        user.sms_notifications = False
        _record(user, ConsentPurpose.SMS_REMINDERS, False, controller_id(user))
    if not email:
        user.email_notifications = False
    user.details_checked_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # someone took the address in the meantime
        db.session.rollback()
        raise SettingError("email", str(EMAIL_TAKEN)) from None
    return changed


def init_app(app) -> None:
    """Give the cookie choice (app.core.cookies) this module's consent reading and recording, so
    a signed-in person's choice is stored as consents (P06) without core importing a feature."""
    from app.core import cookies

    cookies.register_store(app, cookies.ConsentStore(states=consent_states, record=record_cookie_choice))
