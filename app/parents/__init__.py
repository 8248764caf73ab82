"""The parents blueprint."""
from flask import Blueprint

bp = Blueprint("parents", __name__)

from app.parents import routes  # noqa: E402,F401
