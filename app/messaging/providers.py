"""Sending backends: the outbox (default, no keys), SendGrid for email and Twilio for SMS.

Backends are chosen by config ``MAIL_BACKEND`` (outbox | sendgrid) and ``SMS_BACKEND``
(outbox | twilio). Every failure is raised as :class:`ProviderError`, which says whether trying
again later may help (429, 5xx, connection refused) and whether the message may nevertheless have
gone out (no reply before the timeout): the sending job never resends those automatically.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, overload
from urllib.error import URLError

from flask import current_app

from app.core.extensions import db
from app.models import Channel, OutboxMessage

log = logging.getLogger(__name__)
SENDGRID_BATCH = 1000  # personalizations per mail/send call (SendGrid's limit)


class ProviderError(Exception):
    """A provider refused or failed a request."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.ambiguous = ambiguous

    @classmethod
    def from_status(cls, status: int, headers, detail: str = "") -> ProviderError:
        retryable = status == 429 or status >= 500
        return cls(
            f"HTTP {status}{': ' + detail if detail else ''}"[:160],
            status=status,
            retryable=retryable,
            retry_after=retry_after(headers) if retryable else None,
        )


def retry_after(headers) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if any."""
    value = None
    if headers is not None:
        value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class Recipient:
    to: str
    name: str | None = None
    substitutions: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    ref: str | None = None  # our delivery id, echoed back by SendGrid's event webhook
    organisation_id: int | None = None  # the school it is sent on behalf of (the outbox keeps it)


@dataclass
class EmailBatch:
    """One message content for many recipients; ``substitutions`` fill per-recipient tags."""

    from_email: str
    from_name: str
    subject: str
    text: str
    html: str | None
    recipients: list[Recipient]
    category: str | None = None


@overload
def substitute(text: str, substitutions: dict[str, str]) -> str: ...
@overload
def substitute(text: None, substitutions: dict[str, str]) -> None: ...
@overload
def substitute(text: str | None, substitutions: dict[str, str]) -> str | None: ...
def substitute(text: str | None, substitutions: dict[str, str]) -> str | None:
    if text is None:
        return None
    for tag, value in substitutions.items():
        text = text.replace(tag, value)
    return text


def _timeout() -> float:
    return float(current_app.config.get("PROVIDER_TIMEOUT", 10))


# --- outbox ------------------------------------------------------------------------------------


class OutboxBackend:
    """Stores each message as an OutboxMessage in the current transaction (shown at /dev/outbox)."""

    def send_email(self, batch: EmailBatch) -> str:
        rows = []
        for r in batch.recipients:
            headers = {"from": f"{batch.from_name} <{batch.from_email}>", **r.headers}
            rows.append(
                OutboxMessage(
                    channel=Channel.EMAIL,
                    to=r.to,
                    headers=headers,
                    organisation_id=r.organisation_id,
                    subject=substitute(batch.subject, r.substitutions)[:200],
                    text=substitute(batch.text, r.substitutions),
                    html=substitute(batch.html, r.substitutions),
                )
            )
        db.session.add_all(rows)
        return f"outbox-{uuid.uuid4().hex[:16]}"

    def send_sms(self, to: str, body: str, organisation_id: int | None = None) -> str:
        db.session.add(
            OutboxMessage(
                channel=Channel.SMS,
                to=to,
                subject=None,
                text=body,
                html=None,
                headers={"from": "Hometime"},
                organisation_id=organisation_id,
            )
        )
        return f"outbox-{uuid.uuid4().hex[:16]}"


# --- SendGrid ----------------------------------------------------------------------------------


class SendGridBackend:
    """SendGrid's v3 mail/send through the ``sendgrid`` library, up to 1,000 recipients a call."""

    def __init__(self, api_key: str, host: str):
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key=api_key, host=host)

    @staticmethod
    def body(batch: EmailBatch) -> dict:
        personalizations = []
        for r in batch.recipients:
            p: dict[str, Any] = {"to": [{"email": r.to, **({"name": r.name} if r.name else {})}]}
            if r.substitutions:
                p["substitutions"] = r.substitutions
            if r.headers:
                p["headers"] = r.headers
            if r.ref:
                p["custom_args"] = {"delivery": r.ref}
            personalizations.append(p)
        content = [{"type": "text/plain", "value": batch.text}]
        if batch.html:
            content.append({"type": "text/html", "value": batch.html})
        body = {
            "personalizations": personalizations,
            "from": {"email": batch.from_email, "name": batch.from_name},
            "subject": batch.subject,
            "content": content,
        }
        if batch.category:
            body["categories"] = [batch.category[:255]]
        return body

    def send_email(self, batch: EmailBatch) -> str | None:
        from python_http_client.exceptions import HTTPError

        if not 0 < len(batch.recipients) <= SENDGRID_BATCH:
            raise ValueError(f"a SendGrid call takes 1 to {SENDGRID_BATCH} recipients")
        try:
            response = self.client.client.mail.send.post(request_body=self.body(batch), timeout=_timeout())
        except HTTPError as exc:
            raise ProviderError.from_status(exc.status_code, exc.headers, _detail(exc.body)) from None
        except TimeoutError:
            raise ProviderError("no reply from SendGrid before the timeout", ambiguous=True) from None
        except URLError as exc:  # could not connect: nothing reached SendGrid
            raise ProviderError(f"could not reach SendGrid: {exc.reason}"[:160], retryable=True) from None
        except (http.client.HTTPException, OSError) as exc:  # cut off after sending
            raise ProviderError(
                f"SendGrid's reply was cut off: {type(exc).__name__}", ambiguous=True
            ) from None
        if not 200 <= response.status_code < 300:
            raise ProviderError.from_status(response.status_code, response.headers)
        return (response.headers or {}).get("X-Message-Id")

    def send_sms(
        self, to: str, body: str, organisation_id: int | None = None
    ):  # pragma: no cover - configuration error
        raise ProviderError("SendGrid does not send SMS")


def _detail(body) -> str:
    """The first error message of a provider's JSON error body; nothing if it is not JSON."""
    try:
        data = json.loads(body.decode() if isinstance(body, bytes) else body)
        errors = data.get("errors") or [data]
        return str(errors[0].get("message") or "")[:120]
    except (ValueError, AttributeError, TypeError, IndexError):
        return ""


# --- Twilio ------------------------------------------------------------------------------------


def _twilio_http_client(base_url: str | None):
    """A TwilioHttpClient (the library's documented extension point) that can send to another
    base URL (a local stub in tests) and keeps the last response for its Retry-After header."""
    from twilio.http.http_client import TwilioHttpClient

    class HometimeTwilioHttpClient(TwilioHttpClient):
        last_status: int | None = None
        last_headers: dict | None = None

        def request(self, method, url, *args, **kwargs):
            if base_url:
                scheme_host = url.split("/", 3)
                url = base_url.rstrip("/") + "/" + (scheme_host[3] if len(scheme_host) > 3 else "")
            self.last_status, self.last_headers = None, None
            response = super().request(method, url, *args, **kwargs)
            self.last_status, self.last_headers = response.status_code, response.headers
            return response

    return HometimeTwilioHttpClient(timeout=_timeout())


def _never_connected(exc) -> bool:
    """True when requests failed before sending anything (refused, unresolvable, connect timeout)."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class TwilioBackend:
    """Twilio Programmable Messaging through the ``twilio`` library."""

    def __init__(self, account_sid: str, auth_token: str, sender: str, base_url: str | None):
        from twilio.rest import Client

        self.http = _twilio_http_client(base_url)
        self.client = Client(account_sid, auth_token, http_client=self.http)
        self.sender = sender

    def send_sms(self, to: str, body: str, organisation_id: int | None = None) -> str | None:
        import requests
        from twilio.base.exceptions import TwilioException

        try:
            message = self.client.messages.create(to=to, from_=self.sender, body=body)
        except TwilioException as exc:
            status = getattr(exc, "status", None) or self.http.last_status or 0
            raise ProviderError.from_status(
                int(status), self.http.last_headers, str(getattr(exc, "msg", "") or "")[:100]
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise ProviderError("could not reach Twilio", retryable=True) from None
            raise ProviderError(f"Twilio's reply was cut off: {type(exc).__name__}", ambiguous=True) from None
        except requests.exceptions.Timeout:
            raise ProviderError("no reply from Twilio before the timeout", ambiguous=True) from None
        except ValueError:
            if self.http.last_status and 200 <= self.http.last_status < 300:
                log.warning("Twilio accepted a message but its reply was unreadable")
                return None  # accepted: sending again would duplicate it
            raise ProviderError("unreadable reply from Twilio", retryable=True) from None
        return getattr(message, "sid", None)

    def send_email(self, batch: EmailBatch):  # pragma: no cover - configuration error
        raise ProviderError("Twilio does not send email here")


# --- choosing ----------------------------------------------------------------------------------


def backend(channel: Channel):
    """The configured backend for a channel (the outbox when no keys are set)."""
    config = current_app.config
    if channel is Channel.EMAIL and config.get("MAIL_BACKEND") == "sendgrid":
        if not config.get("SENDGRID_API_KEY"):
            raise RuntimeError("MAIL_BACKEND is sendgrid but SENDGRID_API_KEY is not set")
        return SendGridBackend(config["SENDGRID_API_KEY"], config["SENDGRID_HOST"])
    if channel is Channel.SMS and config.get("SMS_BACKEND") == "twilio":
        missing = [k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM") if not config.get(k)]
        if missing:
            raise RuntimeError(f"SMS_BACKEND is twilio but {', '.join(missing)} not set")
        return TwilioBackend(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_FROM"],
            config.get("TWILIO_BASE_URL"),
        )
    return OutboxBackend()
