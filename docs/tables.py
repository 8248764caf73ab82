"""Tables in the docs that are generated from the code, so they cannot drift from it:

- README.md, "Configuration": every setting of ``app/core/config.py``, its environment variable, its
  default and what it means (the meanings are in MEANINGS below);
- docs/architecture.md, "Jobs": the periodic jobs of ``app/jobs/schedule.py``;
- docs/architecture.md, "Data inventory": every table of ``app/models/inventory.py``, whose data it
  holds, its personal columns, retention and recipients.

    .venv/bin/python docs/tables.py            # print them
    .venv/bin/python docs/tables.py --write    # update README.md and docs/architecture.md,
                                               # and the tests column of docs/privacy-promises.md

``tests/crosscutting/test_docs_tables.py`` fails when a file's table differs from what this prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

MEANINGS = {
    "ENV_NAME": "Which settings to start from: `development` (the default; `make run`), "
    "`production` or `test`.",
    "SECRET_KEY": "Signs sessions, CSRF tokens, invitation and unsubscribe links. Required in "
    "production; in development a random one is kept in `instance/secret_key`.",
    "SQLALCHEMY_DATABASE_URI": "The database: PostgreSQL, always (`postgres://` and "
    "`postgresql://` URLs are accepted and use psycopg 3). No "
    "default: `make run` starts an embedded PostgreSQL with its data "
    "in `instance/postgres` and sets `DATABASE_URL` for its "
    "processes; anything else without it stops with a message.",
    "SQLALCHEMY_ENGINE_OPTIONS": "SQLAlchemy engine options (JSON). No `pool_pre_ping` is "
    "needed: a pooled connection the server closed is replaced before use "
    "(`app/core/connections.py`).",
    "REDIS_URL": "Redis for the job queues, the cron scheduler and rate limits. Required in "
    "production. Unset: an embedded redis-server on a unix socket in `instance/`, "
    "shared by the web app, the worker and the cron scheduler.",
    "REQUIRE_STAFF_MFA": "Staff must set up two-step sign-in (TOTP) before using staff pages. "
    "On in production; off in development (`make run`: the demo) unless "
    "`HOMETIME_REQUIRE_STAFF_MFA` is set, and off in the tests.",
    "SESSION_COOKIE_HTTPONLY": "The session cookie is hidden from scripts.",
    "SESSION_COOKIE_SAMESITE": "The session cookie's SameSite attribute.",
    "SESSION_COOKIE_SECURE": "The session cookie is sent over HTTPS only.",
    "REMEMBER_COOKIE_HTTPONLY": "The \u201ckeep me signed in\u201d cookie is hidden from scripts.",
    "REMEMBER_COOKIE_SAMESITE": "The \u201ckeep me signed in\u201d cookie's SameSite attribute.",
    "REMEMBER_COOKIE_SECURE": "The \u201ckeep me signed in\u201d cookie is sent over HTTPS only.",
    "REMEMBER_COOKIE_DURATION": "How long \u201ckeep me signed in\u201d lasts on a phone, in "
    "seconds (90 days).",
    "PERMANENT_SESSION_LIFETIME": "How long a session lasts, in seconds (12 hours).",
    "MAX_CONTENT_LENGTH": "The largest request body accepted, in bytes; larger ones get a 413 page.",
    "WTF_CSRF_TIME_LIMIT": "CSRF tokens last as long as the session (`null`), so a slow "
    "parent's form is not refused.",
    "RATELIMIT_ENABLED": "Rate limits on sign-in paths (Flask-Limiter, stored in Redis).",
    "RATELIMIT_HEADERS_ENABLED": "Rate-limit headers on limited responses.",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "While Redis is unreachable, rate limits are counted "
    "in each process's memory instead of failing.",
    "SIGNIN_LINK_MINUTES": "How long an emailed sign-in link works.",
    "SMS_CODE_MINUTES": "How long a texted sign-in code works.",
    "PASSWORD_RESET_MINUTES": "How long a password-reset link works.",
    "FRESH_SIGNIN_MINUTES": "Privacy requests and downloads ask for a sign-in this recent.",
    "ENCRYPTION_KEYS": "Comma-separated Fernet keys, newest first, for data the application "
    "encrypts at rest. Required in production; in development one is kept in "
    "`instance/encryption_key`.",
    "MAIL_BACKEND": "`outbox` (store messages, shown at `/dev/outbox`) or `sendgrid`. Becomes "
    "`sendgrid` when `SENDGRID_API_KEY` is set, unless "
    "`HOMETIME_MAIL_BACKEND` says otherwise.",
    "SMS_BACKEND": "`outbox` or `twilio`. Becomes `twilio` when `TWILIO_ACCOUNT_SID` is set, "
    "unless `HOMETIME_SMS_BACKEND` says otherwise.",
    "MAIL_FROM": "The address emails come from.",
    "MAIL_FROM_NAME": "The name emails come from.",
    "SENDGRID_API_KEY": "SendGrid API key (email).",
    "SENDGRID_HOST": "SendGrid API base URL (the tests point it at a local stub).",
    "SENDGRID_WEBHOOK_PUBLIC_KEY": "The verification key of SendGrid's Signed Event Webhook "
    "(base64, as SendGrid shows it), which checks the bounces and "
    "drops SendGrid posts to `/webhooks/sendgrid`. Unset: that "
    "address answers 404.",
    "TWILIO_ACCOUNT_SID": "Twilio account SID (text messages).",
    "TWILIO_AUTH_TOKEN": "Twilio auth token.",
    "TWILIO_FROM": "The number or sender id texts come from.",
    "TWILIO_BASE_URL": "Twilio API base URL (the tests point it at a local stub).",
    "BASE_URL": "The public address of the site, used for links in emails and texts.",
    "ACTIVITY_LOG_DAYS": "Default number of days the security activity log is kept (P15).",
    "PRIVACY_NOTICE_URL": "Where the privacy notice is.",
    "ICO_URL": "Where to complain to the Information Commissioner's Office (in every page's footer).",
    "GENERIC_PLANS": "PostgreSQL plans each prepared statement once, and a statement binding a long "
    "list for its values (`app/core/plans.py`); `false` leaves PostgreSQL's own choice.",
    "ICO_BREACH_URL": "The ICO's page for reporting a personal-data breach (linked from the breach "
    "page's countdown).",
    "PHOTO_MAX_DECODED_BYTES": "The most memory a photo may take once decoded, in bytes, "
    "worked out from its header (width × height × bytes per pixel "
    "of its colour mode and bit depth); larger photos are refused "
    "before decoding.",
    "PHOTO_UPLOAD_LIMIT": "How many photos one account may send (a Flask-Limiter rate, such "
    "as `20 per hour`); over it the parent is asked to wait (429).",
    "STORAGE_DIR": "Where files were stored before the object store, and still are when no "
    "`S3_BUCKET` is set (outside `static/`); `flask --app wsgi storage migrate` moves them into the bucket.",
    "S3_BUCKET": "The S3 bucket every stored file goes to (photos, thumbnails, printables, exports; "
    "ciphertext only, P16). `make run` and the tests start SeaweedFS and set it; production sets it "
    "and runs more than one web host only with it.",
    "S3_ENDPOINT_URL": "The S3 API of an S3-compatible store (SeaweedFS, MinIO, a cloud's); unset "
    "for AWS S3.",
    "S3_REGION": "The bucket's region (AWS); S3-compatible stores ignore it.",
    "S3_ACCESS_KEY_ID": "The store's access key; unset: boto3's own chain (`AWS_ACCESS_KEY_ID`, "
    "an instance role).",
    "S3_SECRET_ACCESS_KEY": "The store's secret key (with `S3_ACCESS_KEY_ID`).",
    "RQ_QUEUES": "The RQ queues a worker listens to (JSON list).",
    "RQ_MAINTENANCE_SECONDS": "How often a worker looks for jobs left by a worker that died (`kill -9`, a "
    "lost host) and retries them (RQ's default is 10 minutes).",
    "SHOW_OUTBOX": "Show the outbox at `/dev/outbox` to staff (never in production).",
    "PREFERRED_URL_SCHEME": "The scheme of generated external URLs.",
}
ALIASES = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "REDIS_URL": "REDIS_URL",
    "SENDGRID_API_KEY": "SENDGRID_API_KEY",
    "TWILIO_ACCOUNT_SID": "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN": "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM": "TWILIO_FROM",
}


def _settings(cls) -> dict:
    return {name: getattr(cls, name) for name in dir(cls) if name.isupper()}


def _show(value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, str):
        text = value.replace(str(ROOT) + "/", "")
    else:  # as it would be written in the environment variable (Flask parses JSON)
        text = json.dumps(list(value) if isinstance(value, tuple) else value)
    return f"`{text}`" if text else '`""`'


def rows() -> list[list[str]]:
    """One row per setting of app.core.config.Config (and the production-only ones)."""
    sys.path.insert(0, str(ROOT))
    from app.core import config

    base = _settings(config.Config)
    production = _settings(config.ProductionConfig)
    out = []
    for name in sorted({*base, *production}, key=lambda n: (n != "ENV_NAME", n)):
        env = "`HOMETIME_ENV`" if name == "ENV_NAME" else f"`HOMETIME_{name}`"
        if name in ALIASES:
            env += f" or `{ALIASES[name]}`"
        default = _show(base.get(name))
        if name in production and production[name] != base.get(name) and name != "ENV_NAME":
            default += f" (production: {_show(production[name])})"
        meaning = MEANINGS.get(name, "NOT DESCRIBED: add it to MEANINGS in docs/tables.py")
        out.append([f"`{name}`", env, default, meaning])
    return out


def _markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines)


def config_table() -> str:
    """The configuration table for README.md."""
    return _markdown(["Setting", "Environment variable", "Default", "Meaning"], rows())


def inventory_table() -> str:
    """One row per table of the data inventory, for docs/architecture.md."""
    sys.path.insert(0, str(ROOT))
    from app.models.inventory import INVENTORY

    body = []
    for name, entry in sorted(INVENTORY.items()):
        personal = ", ".join(f"`{c}` ({col.category.value})" for c, col in entry.personal.items())
        body.append(
            [
                f"`{name}`",
                entry.subject,
                entry.purpose,
                personal or "none",
                f"`{entry.retention}`",
                ", ".join(entry.recipients),
            ]
        )
    return _markdown(
        ["Table", "Whose data", "Purpose", "Personal columns (category)", "Retention", "Recipients"], body
    )


def schedule_table() -> str:
    """The periodic jobs of app/jobs/schedule.py, for docs/architecture.md."""
    sys.path.insert(0, str(ROOT))
    from app.jobs.schedule import SCHEDULE

    body = []
    for func, cron, queue in SCHEDULE:
        doc = (func.__doc__ or "").strip().split("\n\n")[0]
        body.append([f"`{func.__module__}.{func.__name__}`", f"`{cron}`", queue, " ".join(doc.split())])
    return _markdown(["Job", "When (cron, UTC)", "Queue", "What it does"], body)


def promise_tests() -> dict[str, list[str]]:
    """Promise id -> the tests whose markers name it (``file::test``, or ``file`` for a module's
    ``pytestmark``), read from the test sources."""
    sys.path.insert(0, str(ROOT))
    from tests.crosscutting.test_promises_doc import _module_marks, _sources, _tests_in

    found: dict[str, list[str]] = {}
    for path, module in _sources().items():
        for pid in _module_marks(module):
            found.setdefault(pid, []).append(path)
        for name, ids in _tests_in(module).items():
            for pid in ids:
                if path not in found.get(pid, []):
                    found.setdefault(pid, []).append(f"{path}::{name}")
    return found


def refresh_promises() -> None:
    """Refill the "Proved by" column of docs/privacy-promises.md from the markers; a row with
    no marked test keeps what it says ("not yet (issue N)")."""
    sys.path.insert(0, str(ROOT))
    from tests.crosscutting.test_promises_doc import DOC, ROW

    found = promise_tests()
    lines = DOC.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        match = ROW.match(line)
        if match and match.group(1) in found:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            cells[3] = "<br>".join(f"`{ref}`" for ref in found[match.group(1)])
            lines[i] = "| " + " | ".join(cells) + " |"
    DOC.write_text("\n".join(lines), encoding="utf-8")


SECTIONS = [
    (README, "config-table", config_table),
    (ARCHITECTURE, "schedule-table", schedule_table),
    (ARCHITECTURE, "inventory-table", inventory_table),
]


def _bounds(text: str, marker: str) -> tuple[int, int]:
    start = text.index(f"<!-- {marker}:start -->") + len(f"<!-- {marker}:start -->")
    return start, text.index(f"<!-- {marker}:end -->")


def section(path: Path, marker: str) -> str:
    """The generated table as it stands in ``path``, between its markers."""
    text = path.read_text(encoding="utf-8")
    start, end = _bounds(text, marker)
    return text[start:end].strip()


def write() -> None:
    for path, marker, make in SECTIONS:
        text = path.read_text(encoding="utf-8")
        start, end = _bounds(text, marker)
        path.write_text(text[:start] + "\n" + make() + "\n" + text[end:], encoding="utf-8")
    refresh_promises()


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        for _path, _marker, make in SECTIONS:
            print(make(), end="\n\n")
