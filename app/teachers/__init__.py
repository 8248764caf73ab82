"""The teachers blueprint: the activity library, weekly topics, the class view."""

from flask import Blueprint

bp = Blueprint("teachers", __name__)
# Its views are imported by create_app (app/__init__.py), from this package and from
# the feature packages, before the blueprint is registered.
