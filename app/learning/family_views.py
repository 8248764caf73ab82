"""Parents' and carers' pages: this week's activities with one-tap ratings, comments and photos,
past weeks, a child's page, the authorised photo route and the first-party ``open`` link.

Every form is a plain form (a 303 back to the card's anchor); with htmx a rating swaps only its
own form. Comments and photos are sent from a small page of their own (loaded in full, so the
phone can shrink the photo first). Another family's child, or an activity outside the child's
published topics, is a 404.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.core import cookies, storage
from app.core.authz import linked_pupils, parent_required, pupil_for_parent_or_404
from app.core.error_pages import NotFoundSaying, http_error, render_error
from app.core.extensions import db, limiter
from app.core.htmx import add_vary, flash_at, is_htmx, render
from app.families.family_forms import SendForm
from app.families.settings import consent_states
from app.learning import engagement as engagements
from app.learning import family_week as week
from app.learning import usage
from app.models import (
    ActivityKind,
    ConsentPurpose,
    Contribution,
    Engagement,
    Guardianship,
    Pupil,
    TopicActivity,
    utcnow,
)
from app.params import page_number
from app.parents import bp

DETAILS_CHECK_DAYS = 365
TOO_BIG = (
    "This photo is too big to send: the limit is {mb} MB. Please choose a smaller photo, "
    "or take one at a lower size."
)
TOO_MANY_PHOTOS = (
    "You have sent a lot of photos in a short time, so we've paused photos for a "
    "little while. Please try again later. You can still send a comment now."
)


def _photo_limit() -> str:
    return current_app.config["PHOTO_UPLOAD_LIMIT"]


def _per_account() -> str:
    return f"user:{current_user.id if current_user.is_authenticated else 'none'}"


def _no_photo() -> bool:
    """A post without a photo (a comment alone) is not counted against the photo limit."""
    upload = request.files.get("photo")
    return upload is None or not upload.filename


@bp.app_context_processor
def _helpers():
    return {"award_label": week.award_label}


def _not_this_childs(pupil: Pupil) -> NotFound:
    return NotFoundSaying(
        f"That activity is not one of {pupil.first_name}'s activities. "
        "Please go back to your home page and try again."
    )


def _pupil_and_item(pupil_id: int, item_id: int):
    pupil = pupil_for_parent_or_404(pupil_id)
    item = engagements.published_item(pupil, item_id)
    if item is None:
        raise _not_this_childs(pupil)
    return pupil, item


def _consents() -> dict:
    """The carer's consent states, loaded once and shared with the cookie banner."""
    states = consent_states(current_user.id)
    cookies.prime(states)
    return states


def _promo_allowed() -> bool:
    return _consents().get(ConsentPurpose.PROMO_PHOTOS) is True


def _item_view(item) -> week.ItemView:
    return week.ItemView(item.id, week.ActivityView(item.activity, None), item.position)


def _engagement(pupil, item) -> week.Done | None:
    """The child's engagement with the activity, with what was sent (shown under it)."""
    return week.engagements_for([pupil.id], [item.id]).get((pupil.id, item.id))


def _anchor(pupil, item) -> str:
    return url_for("parents.home") + f"#c-{pupil.id}-{item.id}"


def _home(status: int = 200, problem: dict | None = None):
    _consents()
    checked = current_user.details_checked_at
    return render(
        "parents/home.html",
        status=status,
        week=week.family_week(current_user),
        problem=problem,
        check_details=checked is None or checked < utcnow() - timedelta(days=DETAILS_CHECK_DAYS),
    )


@bp.get("/")
@parent_required
def home():
    """This week's topics for each linked child, with what the family sent back, and awards."""
    return _home()


def _rating_refused(pupil, item, error: engagements.EngagementError):
    """A refused rating: the form with the message (htmx), or the page with it at the card."""
    if is_htmx():
        return add_vary(
            make_response(
                render_template(
                    "parents/rating.html",
                    child=pupil,
                    item=_item_view(item),
                    eng=_engagement(pupil, item),
                    error=error.message,
                ),
                error.status,
            )
        )
    key = f"{pupil.id}-{item.id}"
    return _home(
        error.status,
        {"key": key, "anchor": f"c-{key}", "summary": error.message, "errors": {error.field: error.message}},
    )


def _send_page(pupil, item, status: int = 200, errors: dict | None = None, draft: str | None = None):
    """The sending form: inline (htmx, only the block) or as its own small page."""
    return render(
        "parents/send.html",
        "form",
        status=status,
        child=pupil,
        item=_item_view(item),
        eng=_engagement(pupil, item),
        promo_allowed=_promo_allowed(),
        errors=errors,
        draft=draft,
    )


@bp.post("/children/<int:pupil_id>/items/<int:item_id>/rating")
@parent_required
def rate(pupil_id: int, item_id: int):
    """We did this, with a 1–5 rating (or a changed rating). htmx: only the rating form."""
    pupil, item = _pupil_and_item(pupil_id, item_id)
    try:
        eng = engagements.rate(pupil, item, current_user, request.form.get("rating"))
    except engagements.EngagementError as error:
        return _rating_refused(pupil, item, error)
    message = gettext("Saved. Thank you!")
    if is_htmx():
        return add_vary(
            make_response(
                render_template(
                    "parents/rating.html",
                    child=pupil,
                    item=_item_view(item),
                    eng=eng,
                    partial=True,
                    message=message,
                )
            )
        )
    flash_at(message, f"c-{pupil.id}-{item.id}")
    return add_vary(redirect(_anchor(pupil, item), 303))


@bp.route("/children/<int:pupil_id>/items/<int:item_id>/send", methods=["GET", "POST"])
@parent_required
@limiter.limit(
    _photo_limit,
    key_func=_per_account,
    methods=["POST"],
    exempt_when=_no_photo,
    scope="photo-uploads",
    error_message=TOO_MANY_PHOTOS,
)
def send(pupil_id: int, item_id: int):
    """Send a comment and/or a photo, each with its own promotion opt-in (P04). GET shows the
    form (inline with htmx); a plain post goes back to the card."""
    pupil, item = _pupil_and_item(pupil_id, item_id)
    if request.method == "GET":
        return _send_page(pupil, item)
    form = SendForm()
    try:
        engagements.send(
            pupil,
            item,
            current_user,
            comment=form.comment.data,
            comment_promo=form.comment_promo.data,
            photo=form.photo.data,
            photo_promo=form.photo_promo.data,
            promo_allowed=_promo_allowed(),
        )
    except engagements.EngagementError as error:
        return _send_page(pupil, item, error.status, {error.field: error.message}, form.comment.data)
    message = gettext("Sent to %(name)s's school. Thank you!", name=pupil.first_name)
    if is_htmx():
        return add_vary(
            make_response(
                render_template(
                    "parents/sent.html",
                    child=pupil,
                    item=_item_view(item),
                    eng=_engagement(pupil, item),
                    message=message,
                )
            )
        )
    flash_at(message, f"s-{pupil.id}-{item.id}")
    return add_vary(redirect(url_for("parents.home") + f"#s-{pupil.id}-{item.id}", 303))


def _send_target() -> tuple[Pupil, TopicActivity] | None:
    """(pupil, item) when the failed request was a parent's post to one of their child's sending
    forms, else None: an error there answers with the form again."""
    args = request.view_args or {}
    if not (request.endpoint == "parents.send" and current_user.is_authenticated and current_user.is_parent):
        return None
    pupil = db.session.scalar(linked_pupils(current_user).where(Pupil.id == args.get("pupil_id")))
    item = engagements.published_item(pupil, args.get("item_id", 0)) if pupil else None
    return (pupil, item) if item is not None else None


@bp.errorhandler(413)
def _too_big(error):
    """An upload over MAX_CONTENT_LENGTH (refused before it is read): the sending form again with
    a friendly message at the photo, for htmx and plain posts alike; elsewhere the usual page."""
    target = _send_target()
    if target is not None:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return _send_page(*target, 413, {"photo": TOO_BIG.format(mb=limit // (1024 * 1024))})
    return render_error(413)


@bp.errorhandler(429)
def _too_many(error):
    """Over the photo limit on the sending form: the form again, with the comment typed and the
    message at the photo; elsewhere the usual page."""
    target = _send_target()
    if target is not None:
        return _send_page(*target, 429, {"photo": TOO_MANY_PHOTOS}, request.form.get("comment"))
    return http_error(error)


@bp.get("/children/<int:pupil_id>")
@parent_required
def child(pupil_id: int):
    """One child: class and school, the school's removal notice (P18), awards, unlinking."""
    pupil = pupil_for_parent_or_404(pupil_id)
    return render_template(
        "parents/child.html", pupil=pupil, awards=week.awards_for([pupil.id], limit=None).get(pupil.id, [])
    )


@bp.get("/children/<int:pupil_id>/weeks")
@parent_required
def past_weeks(pupil_id: int):
    """Earlier weeks' topics for one child and what the family did, a page at a time."""
    pupil = pupil_for_parent_or_404(pupil_id)
    page = request.args.get("page", 1, type=page_number)
    return render_template("parents/weeks.html", pupil=pupil, past=week.past_weeks(pupil, page))


@bp.get("/items/<int:item_id>/open")
@parent_required
def open_item(item_id: int):
    """The first-party ``open`` link (P05): record that the activity was opened, then go there."""
    item = usage.item_for_parent(current_user, item_id)
    if item is None:
        abort(404)
    activity = usage.open_activity(current_user, item)
    if activity.kind is ActivityKind.GAME and activity.url:
        return redirect(activity.url, 302)
    if activity.kind is ActivityKind.VIDEO:
        back = url_for("parents.home") + f"#activity-{item.id}"
        return redirect(url_for("teachers.video", activity_id=activity.id, next=back), 302)
    if activity.kind is ActivityKind.PRINTABLE and activity.file_key:
        return redirect(url_for("teachers.activity_file", activity_id=activity.id), 302)
    return redirect(url_for("parents.home") + f"#activity-{item.id}", 302)


@bp.get("/photos/<int:contribution_id>/<any(thumb, photo):size>")
@parent_required
def photo(contribution_id: int, size: str):
    """A photo the family sent, for the carers of the child only (Cache-Control: private). Staff
    see photos through the teachers' own route (teachers.contribution_photo)."""
    found = db.session.scalar(
        sa.select(Contribution)
        .join(Engagement, Engagement.id == Contribution.engagement_id)
        .join(Guardianship, Guardianship.pupil_id == Engagement.pupil_id)
        .join(Pupil, Pupil.id == Engagement.pupil_id)
        .where(
            Contribution.id == contribution_id,
            Contribution.hidden_at.is_(None),
            Guardianship.parent_id == current_user.id,
            Guardianship.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
    )
    if found is None:
        abort(404)
    return storage.send_stored_file((found.thumb_key if size == "thumb" else None) or found.photo_key)
