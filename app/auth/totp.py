"""Two-step sign-in for staff: TOTP (pyotp), single-use recovery codes, the half-signed-in step.

The TOTP secret is stored encrypted with the app's keys (``app.core.storage.encrypt``). While
``mfa_enabled_at`` is empty a stored secret is an enrolment in progress. A code is accepted once:
the matching time step is remembered in Redis for a few minutes, so a code seen over someone's
shoulder cannot be replayed. Recovery codes are stored only as SHA-256 hashes.

Between the password and the code, the browser's session holds only a random handle; the state
(who, remember me, where next, failed tries) lives in Redis for five minutes and is not a
sign-in: Flask-Login knows nothing of it until the code is right.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import pyotp
import sqlalchemy as sa
from flask import session

from app.auth.sessions import audit
from app.core import qr as qrcodes
from app.core import storage
from app.core.extensions import db
from app.core.redis_conn import get_redis
from app.models import RecoveryCode, User, utcnow

ISSUER = "Hometime"
RECOVERY_CODES = 10
PENDING_SECONDS = 300
MAX_TRIES = 5
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


# --- secret and enrolment ---------------------------------------------------------------------


def _secret(user: User) -> str | None:
    return storage.decrypt(user.totp_secret.encode()).decode() if user.totp_secret else None


def enrolment_secret(user: User) -> str:
    """The secret being enrolled: the one in progress, or a new one (stored encrypted)."""
    in_progress = None if user.mfa_enabled_at else _secret(user)
    if in_progress is not None:
        return in_progress
    secret = pyotp.random_base32()
    user.totp_secret = storage.encrypt(secret.encode()).decode()
    db.session.commit()
    return secret


def provisioning(user: User, secret: str) -> dict:
    """What the enrolment page shows: the QR code as a data: URI and the secret as text."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email or f"user {user.id}", issuer_name=ISSUER)
    qr = qrcodes.data_uri(uri, title="QR code for your authenticator app")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"uri": uri, "qr": qr, "secret": grouped}


def _accept_totp(user: User, secret: str, code: str) -> bool:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return False
    try:
        step = pyotp.TOTP(secret).verify_and_get_timecode(code, valid_window=1)
    except pyotp.exceptions.OTPVerificationError:
        return False
    # Each time step once: a replayed code fails.
    return bool(get_redis().set(f"auth:totp-used:{user.id}:{step}", 1, nx=True, ex=180))


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Turn MFA on when ``code`` matches the secret in progress; the new recovery codes."""
    secret = _secret(user) if not user.mfa_enabled_at else None
    if secret is None or not _accept_totp(user, secret, code):
        return None
    user.mfa_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    audit("mfa_enrolled", user)
    db.session.commit()
    return codes


def disable(user: User) -> None:
    """Turn MFA off: the secret and every recovery code go."""
    user.totp_secret = None
    user.mfa_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit("mfa_disabled", user)
    db.session.commit()


# --- recovery codes ---------------------------------------------------------------------------


def _normalise_recovery(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw)))
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """A new set of recovery codes; the old ones stop working. Shown once, never stored."""
    codes = _replace_recovery_codes(user)
    audit("recovery_codes_regenerated", user)
    db.session.commit()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def _use_recovery_code(user: User, code: str) -> bool:
    if len(_normalise_recovery(code)) != 12:
        return False
    row = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .returning(RecoveryCode.id)
    ).first()
    return row is not None


def check_second_factor(user: User, code: str) -> str | None:
    """``"totp"`` or ``"recovery code"`` when ``code`` is right (a recovery code is used up),
    else None. Nothing is committed here."""
    secret = _secret(user) if user.mfa_enabled_at else None
    if secret and _accept_totp(user, secret, code):
        return "totp"
    if _use_recovery_code(user, code):
        audit("recovery_code_used", user)
        return "recovery code"
    return None


# --- the half-signed-in step ------------------------------------------------------------------


def _key(handle: str) -> str:
    return f"auth:mfa-pending:{handle}"


def begin(user: User, *, remember: bool, next_url: str | None) -> None:
    """The password was right: remember who is half signed in (not a sign-in yet)."""
    handle = secrets.token_urlsafe(24)
    state = {"uid": user.id, "v": user.session_version, "remember": remember, "next": next_url, "tries": 0}
    get_redis().set(_key(handle), json.dumps(state), ex=PENDING_SECONDS)
    session["mfa_pending"] = handle


def pending() -> tuple[User, dict] | None:
    """The half-signed-in account and its state, or None (expired, finished or never begun)."""
    handle = session.get("mfa_pending")
    raw = get_redis().get(_key(handle)) if isinstance(handle, str) else None
    if raw is None:
        return None
    state = json.loads(raw)
    user = db.session.get(User, state["uid"])
    if user is None or not user.is_active or user.session_version != state["v"]:
        return None
    return user, state


def pending_user_id() -> int | None:
    """For the per-account rate limit of the code step."""
    found = pending()
    return found[0].id if found else None


def failed(state: dict) -> bool:
    """Count a wrong code; False when the step is now over (too many tries)."""
    handle = session.get("mfa_pending")
    state["tries"] += 1
    if state["tries"] >= MAX_TRIES or not isinstance(handle, str):  # no step in the session: over
        finish()
        return False
    redis = get_redis()
    ttl = redis.ttl(_key(handle))
    redis.set(_key(handle), json.dumps(state), ex=max(int(ttl), 1))
    return True


def finish() -> None:
    """Forget the half-signed-in state (after success or too many tries)."""
    handle = session.pop("mfa_pending", None)
    if isinstance(handle, str):
        get_redis().delete(_key(handle))


def rotate_secrets() -> int:
    """Re-encrypt every stored TOTP secret under the newest key (run by ``storage rotate-keys``,
    so an old key can be dropped without breaking anyone's two-step sign-in)."""
    import sqlalchemy as sa

    from app.core.extensions import db
    from app.models import User

    rows = db.session.execute(sa.select(User.id, User.totp_secret).where(User.totp_secret.is_not(None))).all()
    for user_id, secret in rows:
        if secret is None:  # left out by the query; the column's type allows it
            continue
        db.session.execute(
            sa.update(User)
            .where(User.id == user_id)
            .values(totp_secret=storage.rotate_token(secret.encode()).decode())
        )
    db.session.commit()
    return len(rows)


storage.register_rotation("two-step sign-in secrets", rotate_secrets)
