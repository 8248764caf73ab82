"""Settings, read from the environment.

Every setting can be given as ``HOMETIME_<NAME>`` (Flask's ``from_prefixed_env``).  The
conventional ``DATABASE_URL``, ``REDIS_URL``, ``SENDGRID_API_KEY`` and ``TWILIO_*`` names are
accepted too, because hosting platforms set those.

The database is always PostgreSQL. There is no default: ``make run`` (app/devrun.py) starts an
embedded PostgreSQL in the instance folder and passes its URL on as ``DATABASE_URL``.
``HOMETIME_INSTANCE`` moves the instance folder (development secrets, files, the embedded
servers' data) away from ``instance/``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

INSTANCE = Path(
    os.environ.get("HOMETIME_INSTANCE") or Path(__file__).resolve().parent.parent.parent / "instance"
).resolve()

NO_DATABASE = (
    "Hometime has no database. Start it with `make run` (which starts an embedded "
    "PostgreSQL in instance/postgres for you), or set DATABASE_URL to a PostgreSQL URL "
    "(postgresql://user:password@host/dbname)."
)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says what to do (shown without a traceback)."""


def _instance_secret(name: str, make) -> str:
    """A development secret kept in instance/ so restarts keep sessions and encrypted files."""
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class Config:
    ENV_NAME = "development"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # PostgreSQL only; `make run` sets DATABASE_URL
    # No pool_pre_ping: a connection the server closed is noticed without a round trip
    # (app/core/connections.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # PostgreSQL plans a prepared statement once, unless it binds a long list (app/core/plans.py);
    # False leaves PostgreSQL's own choice between planning once and planning on every run.
    GENERIC_PLANS = True
    REDIS_URL: str | None = None  # None: an embedded redis-server on a unix socket in instance/
    REQUIRE_STAFF_MFA = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 90  # "keep me signed in" on a family phone
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    # A photo's decoded size, from its header: a 24 MP phone photo in RGB is 96 MB (JPEGs count
    # at the reduced size they are decoded at); converting and resizing take about as much again.
    PHOTO_MAX_DECODED_BYTES = 128 * 1024 * 1024
    PHOTO_UPLOAD_LIMIT = "20 per hour"  # photos one account may send
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so a slow parent is not refused
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Redis restarting: count in this process meanwhile, rather than failing the request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    SIGNIN_LINK_MINUTES = 15
    SMS_CODE_MINUTES = 10
    PASSWORD_RESET_MINUTES = 30
    FRESH_SIGNIN_MINUTES = 15
    ENCRYPTION_KEYS: str | None = None  # comma-separated Fernet keys, newest first (rotation)
    MAIL_BACKEND = "outbox"  # outbox | sendgrid
    SMS_BACKEND = "outbox"  # outbox | twilio
    MAIL_FROM = "hometime@example.org"
    MAIL_FROM_NAME = "Hometime"
    SENDGRID_API_KEY: str | None = None
    SENDGRID_HOST = "https://api.sendgrid.com"
    SENDGRID_WEBHOOK_PUBLIC_KEY: str | None = None  # Signed Event Webhook key; unset: 404
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_FROM: str | None = None
    TWILIO_BASE_URL: str | None = None  # tests point the real client at a local stub
    BASE_URL = "http://127.0.0.1:5000"
    ACTIVITY_LOG_DAYS = 365
    PRIVACY_NOTICE_URL = "/privacy-notice"
    ICO_URL = "https://ico.org.uk/make-a-complaint/"
    ICO_BREACH_URL = "https://ico.org.uk/for-organisations/report-a-breach/"
    STORAGE_DIR = str(INSTANCE / "files")  # only without a bucket (and for ``storage migrate``)
    # The object store (P16: it only ever holds ciphertext). A bucket set: every file goes there.
    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None  # an S3-compatible service (SeaweedFS); unset: AWS
    S3_REGION = "us-east-1"
    S3_ACCESS_KEY_ID: str | None = None  # unset: boto3's own chain (AWS_* variables, a role)
    S3_SECRET_ACCESS_KEY: str | None = None
    RQ_QUEUES = ("default",)
    # How often a worker looks for jobs whose worker died (kill -9, a lost host) and retries them.
    RQ_MAINTENANCE_SECONDS = 60
    SHOW_OUTBOX = True


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SHOW_OUTBOX = False
    PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    REQUIRE_STAFF_MFA = False
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test-secret-key"
    ENCRYPTION_KEYS = "Z8yF1ovc9ZOl4yeyl7bb9bfbyeN4h_3DNo0iZyA9D5M="
    SERVER_NAME = None


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig, "test": TestConfig}

_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL": "REDIS_URL",
    "SENDGRID_API_KEY": "SENDGRID_API_KEY",
    "TWILIO_ACCOUNT_SID": "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN": "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM": "TWILIO_FROM",
    "S3_ENDPOINT_URL": "S3_ENDPOINT_URL",
    "S3_BUCKET": "S3_BUCKET",
    "S3_ACCESS_KEY_ID": "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY": "S3_SECRET_ACCESS_KEY",
}


def load(app, overrides: dict | None = None) -> None:
    """Fill ``app.config``: class defaults, then the environment, then explicit overrides."""
    env = (overrides or {}).get("ENV_NAME") or os.environ.get("HOMETIME_ENV", "development")
    if env not in CONFIGS:
        raise ConfigError(f"HOMETIME_ENV must be one of {sorted(CONFIGS)}, not {env!r}")
    app.config.from_object(CONFIGS[env])
    for name, key in _ALIASES.items():
        if os.environ.get(name) and env != "test":
            app.config[key] = os.environ[name]
    app.config.from_prefixed_env("HOMETIME")
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = _postgresql(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("SENDGRID_API_KEY") and "HOMETIME_MAIL_BACKEND" not in os.environ:
        app.config["MAIL_BACKEND"] = "sendgrid"
    if app.config.get("TWILIO_ACCOUNT_SID") and "HOMETIME_SMS_BACKEND" not in os.environ:
        app.config["SMS_BACKEND"] = "twilio"
    if env == "production":
        for required in ("SECRET_KEY", "ENCRYPTION_KEYS", "REDIS_URL"):
            if not app.config.get(required):
                raise ConfigError(f"HOMETIME_{required} must be set in production")
    else:
        app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret(
            "secret_key", lambda: secrets.token_urlsafe(48)
        )
        app.config["ENCRYPTION_KEYS"] = app.config.get("ENCRYPTION_KEYS") or _instance_secret(
            "encryption_key", _fernet_key
        )
        if env == "development" and "HOMETIME_REQUIRE_STAFF_MFA" not in os.environ:
            app.config["REQUIRE_STAFF_MFA"] = False  # the demo; production always defaults to on


def _postgresql(url: str | None) -> str:
    """The database URL for SQLAlchemy with psycopg 3; anything but PostgreSQL is refused."""
    if not url:
        raise ConfigError(NO_DATABASE)
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+psycopg://"):
        return url
    scheme = url.split(":", 1)[0]
    raise ConfigError(
        f"Hometime runs on PostgreSQL only: DATABASE_URL must start with postgresql://, not {scheme}:"
    )
