"""The parents blueprint."""
from flask import Blueprint

bp = Blueprint("parents", __name__)

from app.parents import account, join, routes  # noqa: E402,F401
