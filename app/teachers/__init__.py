"""The teachers blueprint: the activity library, weekly topics, the class view."""
from flask import Blueprint

bp = Blueprint("teachers", __name__)

from app.teachers import classview, library, media, planner, routes, topics  # noqa: E402,F401
