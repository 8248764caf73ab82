"""Rate limits on every sign-in path: per IP (shared by all of them) AND per account.

The account key is the normalised email or mobile *submitted* (hashed), so guessing at one
account is slowed whether or not it exists, and from however many addresses. Limits are read from
config at request time (``AUTH_LIMIT_*``), so an installation can tune them; over a limit the
friendly 429 page is shown (app/core/error_pages.py) and the event is logged (P15).
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.auth import totp as mfa
from app.auth.sessions import account_key, audit, normalise_email
from app.core.extensions import db, limiter
from app.core.phones import uk_mobile_e164

DEFAULTS = {
    # every sign-in POST from one IP address (a school's or a phone network's NAT is shared)
    "AUTH_LIMIT_IP": "60 per 10 minutes",
    # password, code and MFA checks against one account
    "AUTH_LIMIT_ACCOUNT": "10 per 15 minutes",
    # messages sent to one account (links, codes, resets): no mail- or SMS-bombing
    "AUTH_LIMIT_SEND": "5 per 15 minutes",
}


def _setting(name: str):
    return lambda: current_app.config.get(name, DEFAULTS[name])


def _logged(limit) -> None:
    audit("signin_throttled", current_user if current_user.is_authenticated else None, request.endpoint)
    db.session.commit()


def by_email() -> str:
    value = normalise_email(request.form.get("email", ""))[:254]
    return "email:" + (account_key(value) if value else "none")


def by_mobile() -> str:
    raw = request.form.get("mobile", "")[:20]
    value = uk_mobile_e164(raw) or raw.strip()
    return "mobile:" + (account_key(value) if value else "none")


def by_code_mobile() -> str:
    value = session.get("code_mobile")
    return "mobile:" + (account_key(value) if isinstance(value, str) and value else "none")


def by_pending_user() -> str:
    user_id = mfa.pending_user_id()
    return f"user:{user_id or 'none'}"


def by_current_user() -> str:
    return f"user:{current_user.id if current_user.is_authenticated else 'none'}"


def by_token() -> str:
    token = (request.view_args or {}).get("token") or ""
    return "token:" + (account_key(token[:100]) if token else "none")


def per_ip(view):
    """Count every POST from this IP against one shared sign-in budget."""
    return limiter.shared_limit(
        _setting("AUTH_LIMIT_IP"),
        scope="auth-ip",
        key_func=get_remote_address,
        methods=["POST"],
        on_breach=_logged,
    )(view)


def per_account(key_func, setting: str = "AUTH_LIMIT_ACCOUNT"):
    """Count POSTs against the account named in the request (``key_func``)."""
    return limiter.limit(_setting(setting), key_func=key_func, methods=["POST"], on_breach=_logged)
