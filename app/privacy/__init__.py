"""The privacy blueprint."""
from flask import Blueprint

bp = Blueprint("privacy", __name__)

from app.privacy import routes, unsubscribe  # noqa: E402,F401
from app.privacy import requests  # noqa: E402,F401  (privacy desk: intake)
from app.privacy import exports  # noqa: E402,F401  (privacy data: access exports)
