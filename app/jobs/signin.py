"""Sign-in messages asked for on the sign-in pages: a one-time link, a code by text, a password
reset link. The pages queue this job and answer at once, the same way whether or not the
account exists; looking the account up, making the one-time secret and sending it happen here.
The job carries only the address typed and what was asked for (never a secret)."""

from __future__ import annotations

from app.auth import tokens as login_tokens
from app.core.jobs import job
from app.models import TokenPurpose


@job
def send_sign_in_message(
    purpose: str, address: str, next_url: str | None = None, remember: bool = False
) -> None:
    """Send what ``purpose`` asks for to ``address`` when it belongs to an account that may
    have it; otherwise nothing (and nothing is recorded about the address)."""
    wanted = TokenPurpose(purpose)
    if wanted is TokenPurpose.SIGNIN_LINK:
        login_tokens.request_signin_link(address, next_url=next_url, remember=remember)
    elif wanted is TokenPurpose.SMS_CODE:
        login_tokens.request_sms_code(address)
    elif wanted is TokenPurpose.PASSWORD_RESET:
        login_tokens.request_password_reset(address)
    else:
        raise ValueError(f"no sign-in message for {purpose!r}")
