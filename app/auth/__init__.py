"""The auth blueprint: signing in and out for staff and families (see app/auth/sessions.py)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
# Its views are imported by create_app (app/__init__.py), from this package and from
# the feature packages, before the blueprint is registered.
