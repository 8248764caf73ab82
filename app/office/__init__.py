"""The office blueprint."""
from flask import Blueprint

bp = Blueprint("office", __name__)

from app.office import deliveries, families, retention, roster, routes, staff  # noqa: E402,F401
