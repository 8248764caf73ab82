"""Files and players behind authorisation: a video after the tap (P05, P06), a printable PDF, a
family's photo. Staff of the school see them; so does a parent for a child whose class has a
published topic with the activity. Nothing here is cached by shared caches."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from app.core import storage
from app.core.authz import signed_in, staff_required
from app.core.cookies import current_choice
from app.core.htmx import is_htmx, render
from app.learning import activities
from app.learning.scope import contribution_or_404, viewer_activity_or_404
from app.models import ActivityKind, UsageKind
from app.teachers import bp


def _safe_next(value: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no //) may be a link back."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


@bp.route("/activities/<int:activity_id>/video", methods=["GET", "POST"])
@signed_in
def video(activity_id: int):
    """The player, after the tap. Without a yes to functional cookies: ask (a form that records
    the consent) or offer a plain link to the provider's own site. Works without JavaScript."""
    activity = viewer_activity_or_404(activity_id)
    if activity.kind is not ActivityKind.VIDEO:
        abort(404)
    back = _safe_next(request.values.get("next"))
    if request.method == "POST":
        activities.allow_functional_cookies(current_user, activity.organisation_id)
        for cached in ("_cookie_choice", "_consent_states"):  # the layout's banner reads them
            g.pop(cached, None)
        if not is_htmx():
            return redirect(url_for("teachers.video", activity_id=activity.id, next=back), 303)
    # The same answer as the cookie banner and the cookies page give (P06).
    allowed = current_choice().functional
    if allowed and current_user.is_parent:
        activities.record_usage(current_user.id, activity.id, UsageKind.VIDEO_PLAYED)  # first-party (P05)
    return render(
        "teachers/video.html",
        "player",
        activity=activity,
        allowed=allowed,
        back=back,
        embed=activities.embed_url(activity),
        watch=activities.watch_url(activity),
        provider=activities.PROVIDER_NAMES.get(activity.video_provider or "", "the video site"),
    )


@bp.get("/activities/<int:activity_id>/file")
@signed_in
def activity_file(activity_id: int):
    """A printable's PDF, decrypted from storage, for those allowed to see the activity."""
    activity = viewer_activity_or_404(activity_id)
    if activity.kind is not ActivityKind.PRINTABLE or not activity.file_key:
        abort(404)
    name = "".join(c if c.isalnum() else "-" for c in activity.title.lower()).strip("-")[:60]
    if current_user.is_parent:
        activities.record_usage(current_user.id, activity.id, UsageKind.ACTIVITY_OPENED)
    return storage.send_stored_file(
        activity.file_key, mimetype="application/pdf", filename=f"{name or 'worksheet'}.pdf"
    )


@bp.get("/contributions/<int:contribution_id>/<any(thumb, photo):size>")
@staff_required()
def contribution_photo(contribution_id: int, size: str):
    """A family's photo (or its thumbnail) for the child's school staff only (P04, P12)."""
    contribution = contribution_or_404(contribution_id)
    return storage.send_stored_file(
        (contribution.thumb_key if size == "thumb" else None) or contribution.photo_key
    )
