"""The privacy pages everyone can reach: your data rights in plain words, and acknowledging a
changed privacy notice (P07). Making requests: app/dataprotection/requests/family_views.py."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from app.core.authz import public, signed_in
from app.core.htmx import redirect_after_post, render
from app.dataprotection import notices
from app.privacy import bp

# Each kind of request, in the words a parent would use (P22-P26).
RIGHTS = [
    (
        "access",
        "Get a copy of your data",
        "See what the school holds about you or your child on Hometime: what it is, why it is "
        "kept, for how long, where it came from and who it is shared with. You get a page you can "
        "read and files a computer can read, with the photos.",
    ),
    (
        "erasure",
        "Have your data deleted",
        "Ask for your or your child's data to be deleted. Names, photos and comments are removed; "
        "only figures that say nothing about who you are (such as how many activities were done) "
        "are kept. If the school must keep something by law, it tells you what and why.",
    ),
    (
        "rectification",
        "Correct your data",
        "Something is wrong or out of date, such as a name or a phone number. Tell the school what "
        "should change; the correction is recorded.",
    ),
    (
        "restriction",
        "Limit how your data is used",
        "Ask the school to keep the data but stop using it for a while, for example while "
        "something is checked. You are left out of messages, reports and publishing until then.",
    ),
    (
        "objection",
        "Object to how your data is used",
        "Tell the school you disagree with a use of your data, such as photos shown to promote "
        "the school. It stops while your objection is considered.",
    ),
    (
        "portability",
        "Take your data elsewhere",
        "Get your data in common formats (JSON and CSV files) to keep or give to another service.",
    ),
    ("other", "Something else", "Any other question or request about how your or your child's data is used."),
]
RIGHT_TITLES = {kind: title for kind, title, _ in RIGHTS}


@bp.get("/")
@public
def home():
    """Your data rights, each explained, with the way to ask for it."""
    return render("privacy/home.html", rights=RIGHTS)


def safe_next(value: str | None, default: str) -> str:
    """Only a path on this site (never another site) to go back to."""
    value = value or ""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


@bp.post("/notices/<int:notice_id>/acknowledge")
@signed_in
def acknowledge_notice(notice_id: int):
    """'I have read the changes' (major) or 'Dismiss' (minor): recorded with the version (P07)."""
    try:
        notices.acknowledge(current_user, notice_id)
    except notices.NoticeError as error:
        abort(error.status)
    return redirect_after_post(safe_next(request.form.get("next"), url_for("site.index")))
