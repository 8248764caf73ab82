"""The privacy blueprint."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
# Its views are imported by create_app (app/__init__.py), from this package and from
# the feature packages, before the blueprint is registered.
