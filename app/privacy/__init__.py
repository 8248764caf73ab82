"""The privacy blueprint."""
from flask import Blueprint

bp = Blueprint("privacy", __name__)

from app.privacy import routes, unsubscribe  # noqa: E402,F401
