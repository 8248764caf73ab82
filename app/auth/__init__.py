"""The auth blueprint: signing in and out for staff and families (see app/services/auth.py)."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import hooks, links, mfa, password, routes  # noqa: E402,F401
