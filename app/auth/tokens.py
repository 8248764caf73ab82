"""One-time sign-in links, SMS codes and password-reset links (``login_tokens``).

Only a SHA-256 hash of each secret is stored. A link is used by one conditional UPDATE (live,
unused, unexpired → used), so it works once even when two requests race. An SMS code is 6 digits
hashed with a per-code salt; every wrong try is counted and after SMS_MAX_ATTEMPTS the code is
dead. Requests answer the same whether or not the account exists, and take the same time: the
sign-in pages only queue :func:`queue_sign_in_message`, and the job looks the account up and
sends (``app/jobs/signin.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.auth.passwords import hash_password
from app.auth.sessions import audit, end_sign_ins, find_by_email, parent_by_mobile, safe_next
from app.core.extensions import db
from app.messaging.notify import send_now
from app.models import Channel, LoginToken, TokenPurpose, User, utcnow

log = logging.getLogger(__name__)

SMS_MAX_ATTEMPTS = 5


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_token(user: User, purpose: TokenPurpose, minutes: int, payload: dict | None = None) -> str:
    secret = secrets.token_urlsafe(32)
    db.session.add(
        LoginToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_digest(secret),
            expires_at=utcnow() + timedelta(minutes=minutes),
            payload=payload,
        )
    )
    db.session.flush()
    return secret


def _live(purpose: TokenPurpose):
    return (LoginToken.purpose == purpose, LoginToken.used_at.is_(None), LoginToken.expires_at > utcnow())


def peek(purpose: TokenPurpose, secret: str) -> LoginToken | None:
    """The live token for ``secret`` without using it (for the confirm pages)."""
    if not secret or len(secret) > 100:
        return None
    return db.session.scalar(
        sa.select(LoginToken).where(LoginToken.token_hash == _digest(secret), *_live(purpose))
    )


def consume(purpose: TokenPurpose, secret: str) -> tuple[User, dict] | None:
    """Use a token once (atomically); its account and payload, or None when dead or forged."""
    if not secret or len(secret) > 100:
        return None
    row = db.session.execute(
        sa.update(LoginToken)
        .where(LoginToken.token_hash == _digest(secret), *_live(purpose))
        .values(used_at=utcnow())
        .returning(LoginToken.user_id, LoginToken.payload)
    ).first()
    user = db.session.get(User, row.user_id) if row and row.user_id else None
    if row is None or user is None or not user.is_active:
        db.session.rollback()
        return None
    return user, row.payload or {}


def _kill_live(user: User, purpose: TokenPurpose) -> None:
    db.session.execute(
        sa.update(LoginToken).where(LoginToken.user_id == user.id, *_live(purpose)).values(used_at=utcnow())
    )


def _send(channel: Channel, to: str | None, template: str, **context) -> bool:
    """Hand a message over and commit; when the provider refuses it (or the account has no
    address for the channel), roll back (no token that was never delivered, no "sent" in the
    log) and log why. The page answers the same."""
    if to is None:
        log.warning("could not send %s: the account has no address for it", template)
        sent = False
    else:
        try:
            sent = send_now(channel, to, template, **context) is not False
        except Exception:  # a provider outage must not become a 500 or reveal the account
            log.exception("could not send %s", template)
            sent = False
    if not sent:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _link(endpoint: str, token: str) -> str:
    """The full URL of a one-time link; built from BASE_URL, so a job (with no request) can too."""
    path = current_app.url_map.bind("hometime").build(endpoint, {"token": token})
    return current_app.config["BASE_URL"].rstrip("/") + path


SIGN_IN_JOB = "app.jobs.signin.send_sign_in_message"


def queue_sign_in_message(
    purpose: TokenPurpose, address: str, *, next_url: str | None = None, remember: bool = False
) -> None:
    """Have a worker send a sign-in link, code or reset link to ``address`` if it belongs to an
    account (the page answers the same at once, whether or not it does). Not retried: a person
    waiting asks again, and a late second code would replace the one they are typing."""
    from app.core.jobs import enqueue_now

    if purpose is TokenPurpose.SIGNIN_LINK:
        enqueue_now(
            SIGN_IN_JOB,
            purpose.value,
            address,
            retry=None,
            timeout=60,
            next_url=safe_next(next_url),
            remember=bool(remember),
        )
    else:
        enqueue_now(SIGN_IN_JOB, purpose.value, address, retry=None, timeout=60)


def send_signin_link(user: User, *, next_url: str | None = None, remember: bool = False) -> bool:
    """Email ``user`` a one-time sign-in link (parents only)."""
    minutes = current_app.config["SIGNIN_LINK_MINUTES"]
    token = _new_token(
        user, TokenPurpose.SIGNIN_LINK, minutes, {"next": safe_next(next_url), "remember": bool(remember)}
    )
    audit("signin_link_sent", user)
    return _send(
        Channel.EMAIL,
        user.email,
        "signin_link",
        user=user,
        minutes=minutes,
        url=_link("auth.link_use", token),
    )


def request_signin_link(email: str, *, next_url: str | None = None, remember: bool = False) -> None:
    """Send a link when ``email`` belongs to a parent who may sign in; otherwise do nothing."""
    user = find_by_email(email)
    if user is not None and user.is_parent and user.is_active:
        send_signin_link(user, next_url=next_url, remember=remember)


def use_signin_link(token: str) -> tuple[User, dict] | None:
    """Consume a sign-in link; a failure is logged."""
    found = consume(TokenPurpose.SIGNIN_LINK, token)
    if found is None:
        audit("signin_failed", None, "sign-in link expired, used or unknown")
        db.session.commit()
    return found


def _code_hash(salt: str, code: str) -> str:
    return _digest(f"{salt}:{code}")


def send_sms_code(user: User) -> bool:
    """Text ``user`` a new 6-digit code; earlier codes stop working."""
    _kill_live(user, TokenPurpose.SMS_CODE)
    minutes = current_app.config["SMS_CODE_MINUTES"]
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    db.session.add(
        LoginToken(
            user_id=user.id,
            purpose=TokenPurpose.SMS_CODE,
            token_hash=_code_hash(salt, code),
            payload={"salt": salt},
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    audit("sms_code_sent", user)
    return _send(Channel.SMS, user.mobile, "sms_code", user=user, code=code, minutes=minutes)


def request_sms_code(mobile: str) -> None:
    """Send a code when ``mobile`` belongs to a parent who may sign in; otherwise do nothing."""
    user = parent_by_mobile(mobile)
    if user is not None:
        send_sms_code(user)


def check_sms_code(mobile: str | None, code: str) -> User | None:
    """The parent when ``code`` is their live code. A wrong code counts an attempt; after
    SMS_MAX_ATTEMPTS the code is dead. Commits either way."""
    user = parent_by_mobile(mobile)
    token = user and db.session.scalar(
        sa.select(LoginToken)
        .where(LoginToken.user_id == user.id, *_live(TokenPurpose.SMS_CODE))
        .order_by(LoginToken.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if token and hmac.compare_digest(
        token.token_hash, _code_hash((token.payload or {}).get("salt", ""), code)
    ):
        token.used_at = utcnow()
        db.session.flush()
        return user
    if token:
        token.attempts += 1
        if token.attempts >= SMS_MAX_ATTEMPTS:
            token.used_at = utcnow()
    audit("signin_failed", user, "sms code" if token else "sms code; none live")
    db.session.commit()
    return None


def request_password_reset(email: str) -> None:
    """Email a one-time reset link when ``email`` belongs to an account that may sign in."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    token = _new_token(user, TokenPurpose.PASSWORD_RESET, minutes)
    audit("password_reset_sent", user)
    _send(
        Channel.EMAIL,
        user.email,
        "password_reset",
        user=user,
        minutes=minutes,
        url=_link("auth.reset_use", token),
    )


def reset_password(token: str, new_password: str) -> User | None:
    """Use a reset link: new password, every session ended, other reset links dead."""
    found = consume(TokenPurpose.PASSWORD_RESET, token)
    if found is None:
        audit("password_reset_failed", None, "reset link expired, used or unknown")
        db.session.commit()
        return None
    user, _ = found
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    end_sign_ins(user)
    _kill_live(user, TokenPurpose.PASSWORD_RESET)
    audit("password_reset", user)
    db.session.commit()
    return user
