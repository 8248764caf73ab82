"""The office blueprint."""
from flask import Blueprint

bp = Blueprint("office", __name__)

from app.office import deliveries, families, reports, retention, roster, routes, staff  # noqa: E402,F401
from app.office import exports, people, register  # noqa: E402,F401  (privacy data)
from app.office import breaches, notices, requests  # noqa: E402,F401  (privacy desk)
