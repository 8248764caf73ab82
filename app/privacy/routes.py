"""Privacy requests (built out by the privacy-desk issue)."""
from __future__ import annotations

from flask import render_template

from app.authz import public
from app.privacy import bp


@bp.get("/")
@public
def home():
    return render_template("privacy/home.html")
