"""Development and demo tools (never in production): the outbox at /dev/outbox."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dev", __name__)
