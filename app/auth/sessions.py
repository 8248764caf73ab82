"""Sign-in: normalising input, finding accounts, passwords and sessions (every event logged, P15).

Routes in ``app/auth`` parse and render; what reads or changes accounts is here. Failures never
say whether an account exists. Signing in rotates the session (no fixation, a new CSRF token);
each sign-in is a ``UserSession`` row whose secret travels in the Flask-Login id (session and
remember-me cookie), so signing out ends that sign-in on the server and a copied cookie stops
working; ``session_version`` is part of the id too, so bumping it ends every other session and
remember-me cookie. One-time links and codes are in ``app/auth/tokens.py``; two-step
sign-in (TOTP, recovery codes) in ``app/auth/totp.py``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, g, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.passwords import check_password, hash_password
from app.core.audit import log_event
from app.core.authz import mark_fresh_signin
from app.core.contexts import from_g
from app.core.extensions import db
from app.models import StaffMembership, User, UserKind, UserSession, utcnow

ACTIVE_EVERY = timedelta(hours=1)  # how often "last active" is written: hourly is precise enough


# --- input ------------------------------------------------------------------------------------


def normalise_email(value: str | None) -> str:
    """An email address as accounts are looked up: trimmed, lower case."""
    return (value or "").strip().lower()


def account_key(value: str) -> str:
    """A rate-limit key for an email or mobile that keeps the address itself out of Redis."""
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def safe_next(target: str | None, default: str | None = None) -> str | None:
    """``target`` when it is a path on this site; otherwise ``default`` (no open redirects)."""
    if not target or len(target) > 500 or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def landing(user: User) -> str:
    """Where a person goes after signing in: the school office to the office's home, other
    staff to their classes (or MFA set-up first when the school requires it), parents to their
    children."""
    if user.is_staff:
        from app.core.authz import office_organisation_ids

        if current_app.config["REQUIRE_STAFF_MFA"] and not user.mfa_enabled_at:
            return url_for("auth.mfa_enrol")
        return url_for("office.home" if office_organisation_ids(user) else "teachers.home")
    return url_for("parents.home")


def is_fresh() -> bool:
    """Signed in within the last FRESH_SIGNIN_MINUTES."""
    limit = current_app.config["FRESH_SIGNIN_MINUTES"] * 60
    return time.time() - session.get("auth_at", 0) <= limit


# --- accounts ---------------------------------------------------------------------------------


def find_by_email(email: str) -> User | None:
    """The account with this (normalised) email address, if any."""
    if not email:
        return None
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email).limit(1))


def parent_by_mobile(mobile: str | None) -> User | None:
    """The active parent account with this mobile (the most recently used one, if shared)."""
    if not mobile:
        return None
    candidates = db.session.scalars(
        sa.select(User)
        .where(User.mobile == mobile, User.kind == UserKind.PARENT)
        .order_by(User.last_login_at.desc().nulls_last(), User.id)
    ).all()
    return next((u for u in candidates if u.is_active), None)


def organisation_id(user: User | None) -> int | None:
    """The school an activity-log row about ``user`` belongs to (staff only)."""
    if user is None or not user.is_staff:
        return None
    return db.session.scalar(
        sa.select(StaffMembership.organisation_id)
        .where(StaffMembership.user_id == user.id, StaffMembership.organisation_id.is_not(None))
        .order_by(StaffMembership.id)
        .limit(1)
    )


def audit(event: str, user: User | None = None, detail: str | None = None) -> None:
    """An activity-log row (P15) for a sign-in event; committed by the caller."""
    log_event(event, user, detail=detail, organisation_id=organisation_id(user))


def check_credentials(email: str, password: str) -> User | None:
    """The account when ``password`` is right for ``email`` and the account may sign in.

    The same work is done whether or not the account exists; failures are logged and committed.
    """
    user = find_by_email(email)
    ok = check_password(user.password_hash if user else None, password)
    if ok and user is not None and user.is_active:
        return user
    audit("signin_failed", user, "password" if user else "password; no such account")
    db.session.commit()
    return None


# --- sessions ---------------------------------------------------------------------------------


def rotate_session() -> None:
    """Drop everything the session held before (no fixation) and the CSRF token with it; an
    earlier remember-me cookie on this browser is cleared too (unless sign-in sets a new one)."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if has_remember_cookie():
        session["_remember"] = "clear"


def has_remember_cookie() -> bool:
    """Whether this browser sent a "keep me signed in" cookie."""
    return bool(request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")))


def _open_sign_in(user: User) -> None:
    """A new server-side record of a sign-in on this browser; its secret goes into the
    Flask-Login id (``User.get_id``). Added to the session; the caller commits."""
    secret = secrets.token_urlsafe(24)
    db.session.add(UserSession(user_id=user.id, secret_hash=UserSession.hash(secret)))
    user.session_secret = secret


def sign_in_here(user: User, *, remember: bool) -> None:
    """Sign ``user`` in on this browser under a new server-side sign-in (committed). The caller
    has cleared the old session."""
    _open_sign_in(user)
    login_user(user, remember=remember)
    mark_fresh_signin()
    db.session.commit()


def start_session(user: User, *, remember: bool, method: str) -> None:
    """Sign ``user`` in on this browser: new session, fresh, logged (P15), committed."""
    rotate_session()
    now = utcnow()
    user.last_login_at = now
    user.last_active_at = now
    audit("signin", user, method)
    sign_in_here(user, remember=remember)


def end_sign_ins(user: User, *, keep: str | None = None) -> None:
    """Mark ``user``'s live sign-ins ended (all, or all but the one with secret ``keep``); the
    caller commits."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        query = query.where(UserSession.secret_hash != UserSession.hash(keep))
    db.session.execute(query.values(ended_at=utcnow()))


def end_session(user: User) -> None:
    """Sign out here: this sign-in ends on the server (so neither a copy of the session cookie
    nor the remember cookie works again), the cookies are cleared, and it is logged."""
    if user.session_secret:
        db.session.execute(
            sa.update(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.secret_hash == UserSession.hash(user.session_secret),
                UserSession.ended_at.is_(None),
            )
            .values(ended_at=utcnow())
        )
    audit("signout", user)
    db.session.commit()
    rotate_session()
    logout_user()


def _rekey_current_session(user: User) -> None:
    """After ``session_version`` moved on, keep this browser signed in under the new version."""
    remember = has_remember_cookie()
    auth_at = session.get("auth_at")
    rotate_session()
    login_user(user, remember=remember)
    if auth_at:
        session["auth_at"] = auth_at


def sign_out_everywhere(user: User) -> None:
    """End every other session and remember-me cookie of ``user``; this one carries on."""
    user.session_version += 1
    end_sign_ins(user, keep=user.session_secret)
    audit("signout_everywhere", user)
    db.session.commit()
    _rekey_current_session(user)


def confirm_password(user: User, password: str | None, what: str) -> bool:
    """Whether ``password`` is the signed-in person's; a wrong one is logged (P15)."""
    if check_password(user.password_hash, password or ""):
        return True
    audit("signin_failed", user, f"{what}: wrong password")
    db.session.commit()
    return False


def reauthenticate(user: User, password: str) -> bool:
    """Check the password of the signed-in person again and mark the sign-in fresh."""
    if not confirm_password(user, password, "reauth"):
        return False
    mark_fresh_signin()
    audit("reauth", user, "password")
    db.session.commit()
    return True


def change_password(user: User, new_password: str, current: str | None) -> bool:
    """Set a new password (the current one is needed when there is one); every other session
    of ``user`` ends and this one carries on. False when ``current`` is wrong."""
    if user.password_hash and not confirm_password(user, current, "password change"):
        return False
    event = "password_changed" if user.password_hash else "password_set"
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    end_sign_ins(user, keep=user.session_secret)
    audit(event, user)
    db.session.commit()
    _rekey_current_session(user)
    return True


def touch(user: User) -> None:
    """Record activity at most once per ACTIVE_EVERY (closing unused accounts, P19, needs it;
    so does clearing out sign-ins unused for long): on a connection of its own, so the page's
    session is neither committed nor expired (the page then reads nothing again)."""
    now = utcnow()
    stale_user = user.last_active_at is None or now - user.last_active_at > ACTIVE_EVERY
    seen = from_g("_sign_in_seen")
    secret = user.session_secret
    stale_sign_in = bool(secret and seen and now - seen > ACTIVE_EVERY)
    if not (stale_user or stale_sign_in):
        return
    with db.engine.begin() as conn:
        if stale_user:
            users = User.__table__
            conn.execute(sa.update(users).where(users.c.id == user.id).values(last_active_at=now))
        if secret and stale_sign_in:
            rows = UserSession.__table__
            conn.execute(
                sa.update(rows).where(rows.c.secret_hash == UserSession.hash(secret)).values(last_seen_at=now)
            )
    if stale_user:
        set_committed_value(user, "last_active_at", now)


def record_wrong_code(user: User) -> None:
    """An activity-log row (P15) for a wrong two-step code. Committed."""
    from app.core.transactions import transaction

    with transaction():
        audit("signin_failed", user, "two-step code")
