"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from app import create_app
from app.core.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a missing or wrong setting: say what to do, without a traceback
    raise SystemExit(f"Hometime: {exc}") from None
