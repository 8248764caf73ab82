"""A local HTTP stand-in for SendGrid and Twilio, so tests run the real client libraries.

A real ``http.server`` on 127.0.0.1 in a thread. It records every request (method, path,
headers, JSON or form body) and CHECKS its shape like the real APIs would:
- SendGrid v3 ``POST /v3/mail/send``: ``Authorization: Bearer <key>``; JSON with 1 to 1,000
  personalizations each with ``to``; ``from.email``; a subject; ``content`` with text/plain first.
- Twilio ``POST /2010-04-01/Accounts/<sid>/Messages.json``: basic auth ``<sid>:<token>``; form body
  with ``To`` and ``Body`` and ``From``.
A request of the wrong shape is answered 400 and listed in ``stub.problems``.

Tell it how to answer the next requests with :meth:`ProviderStub.script`: ``"ok"``, ``"429"``
(with Retry-After), ``"500"``, ``"400"``, ``"malformed"`` (a success status with a body that is not
what the API returns) or ``"hang"`` (no answer until after the client's timeout). ``on_request``
runs a callback when a request arrives (e.g. to kill a worker mid-send).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SENDGRID_KEY = "SG.test-key"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-token"
TWILIO_FROM = "+447700900000"
_ids = itertools.count(1)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: object
    answered: int | None = None


@dataclass
class ProviderStub:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    hang_seconds: float = 3.0
    on_request: object = None
    _script: list[tuple[str, dict]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, *answers: str, **options) -> None:
        """Answer the next requests in this order (then "ok" again)."""
        with self._lock:
            self._script.extend((a, options) for a in answers)

    def _next(self) -> tuple[str, dict]:
        with self._lock:
            return self._script.pop(0) if self._script else ("ok", {})

    @property
    def sendgrid_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v3/mail/send"]

    @property
    def twilio_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def emails_to(self, address: str) -> list[tuple[dict, dict]]:
        """(request body, personalization) for every personalization addressed to ``address``."""
        return [
            (r.body, p)
            for r in self.sendgrid_calls
            if isinstance(r.body, dict)
            for p in r.body.get("personalizations", [])
            if p["to"][0]["email"] == address
        ]

    def messages_to(self, address: str) -> list[dict]:
        """What ``address`` would receive: from name, subject, text, html, headers, with
        SendGrid's substitutions applied as SendGrid applies them."""
        found = []
        for body, p in self.emails_to(address):
            subs = p.get("substitutions")
            parts = {c["type"]: _fill(c["value"], subs) for c in body["content"]}
            found.append(
                {
                    "from_name": body["from"].get("name"),
                    "from": body["from"]["email"],
                    "subject": _fill(p.get("subject") or body["subject"], subs),
                    "text": parts.get("text/plain"),
                    "html": parts.get("text/html"),
                    "headers": {**body.get("headers", {}), **p.get("headers", {})},
                }
            )
        return found


def _fill(text, subs):
    for tag, value in (subs or {}).items():
        text = text.replace(tag, value)
    return text


def _check_sendgrid(headers, body) -> list[str]:
    problems = []
    if headers.get("Authorization") != f"Bearer {SENDGRID_KEY}":
        problems.append("sendgrid: missing or wrong Bearer token")
    if not isinstance(body, dict):
        return problems + ["sendgrid: body is not a JSON object"]
    ps = body.get("personalizations")
    if not isinstance(ps, list) or not 1 <= len(ps) <= 1000:
        problems.append(f"sendgrid: personalizations must be 1..1000, got {len(ps or [])}")
    else:
        for p in ps:
            if not p.get("to") or not all("@" in t.get("email", "") for t in p["to"]):
                problems.append("sendgrid: a personalization without a valid 'to'")
                break
            if len(json.dumps(p.get("substitutions", {})).encode()) > 10000:
                problems.append("sendgrid: substitutions over 10,000 bytes")
                break
    if not (body.get("from") or {}).get("email"):
        problems.append("sendgrid: no from.email")
    if not body.get("subject") and not all(p.get("subject") for p in ps or []):
        problems.append("sendgrid: no subject")
    content = body.get("content") or []
    if not content or content[0].get("type") != "text/plain" or not all(c.get("value") for c in content):
        problems.append("sendgrid: content must start with a non-empty text/plain part")
    return problems


def _check_twilio(path, headers, form) -> list[str]:
    problems = []
    expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    if headers.get("Authorization") != expected:
        problems.append("twilio: missing or wrong basic auth")
    if path != f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
        problems.append(f"twilio: unexpected path {path}")
    for key in ("To", "From", "Body"):
        if not form.get(key):
            problems.append(f"twilio: form field {key} missing")
    if form.get("To", "").startswith("+") is False:
        problems.append("twilio: To is not E.164")
    return problems


def _handler(stub: ProviderStub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            if "json" in (self.headers.get("Content-Type") or ""):
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            record = Recorded("POST", self.path, headers, body)
            with stub._lock:
                stub.requests.append(record)
            if stub.on_request:
                stub.on_request(record)
            if self.path == "/v3/mail/send":
                problems = _check_sendgrid(headers, body)
            elif self.path.endswith("/Messages.json"):
                problems = _check_twilio(self.path, headers, body)
            else:
                problems = [f"unknown endpoint {self.path}"]
            if problems:
                stub.problems.extend(problems)
                return self._answer(record, 400, {"errors": [{"message": p} for p in problems]})
            answer, options = stub._next()
            twilio = self.path.endswith("/Messages.json")
            if answer == "hang":
                time.sleep(options.get("seconds", stub.hang_seconds))
                answer = "ok"
            if answer == "ok":
                if twilio:
                    sid = f"SM{next(_ids):032d}"
                    return self._answer(
                        record,
                        201,
                        {"sid": sid, "status": "queued", "to": body.get("To"), "body": body.get("Body")},
                    )
                return self._answer(record, 202, None, {"X-Message-Id": f"sg-{next(_ids)}"})
            if answer == "429":
                return self._answer(
                    record,
                    429,
                    {"errors": [{"message": "too many requests"}]},
                    {"Retry-After": str(options.get("retry_after", 7))},
                )
            if answer == "500":
                return self._answer(record, 500, {"errors": [{"message": "internal error"}]})
            if answer == "400":
                return self._answer(
                    record,
                    400,
                    {
                        "errors": [{"message": "invalid email"}],
                        "message": "The 'To' number is not valid",
                        "code": 21211,
                    },
                )
            if answer == "malformed":
                return self._answer(
                    record, 201 if twilio else 202, "<html>gateway</html>", content_type="text/html"
                )
            raise AssertionError(f"unknown scripted answer {answer!r}")

        def _answer(self, record, status, payload, headers=None, content_type="application/json"):
            record.answered = status
            data = (
                b""
                if payload is None
                else (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
            )
            try:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if data:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test, or a killed worker)

    return Handler


def start() -> tuple[ProviderStub, ThreadingHTTPServer]:
    stub = ProviderStub()
    server = ThreadingHTTPServer((stub.host, 0), _handler(stub))
    server.daemon_threads = True
    stub.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return stub, server


def provider_config(stub: ProviderStub) -> dict:
    """App config sending through the real libraries to this stub."""
    return {
        "MAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": SENDGRID_KEY,
        "SENDGRID_HOST": stub.url,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM": TWILIO_FROM,
        "TWILIO_BASE_URL": stub.url,
        "PROVIDER_TIMEOUT": 1.0,
    }


# END
