"""One-click unsubscribe from optional (news) emails (P09, RFC 8058).

Every optional email carries ``List-Unsubscribe: <.../privacy/unsubscribe/<token>>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: a mail client's POST to that address
withdraws the NEWS consent at once, with no sign-in and no CSRF token (the signed token is the
authority). The same link in the email body opens a page with one button, so a link-checker
fetching it with GET never unsubscribes anyone by accident.
"""

from __future__ import annotations

from flask import render_template

from app.core import audit, consent
from app.core.authz import public
from app.core.extensions import csrf, db
from app.messaging.notify import read_unsubscribe_token
from app.models import ConsentMethod, ConsentPurpose, User
from app.privacy import bp


def withdraw_news(user_id: int, organisation_id: int | None) -> bool:
    """Append a NEWS withdrawal unless news is already off; returns whether one was recorded."""
    user = db.session.get(User, user_id)
    if user is None or not consent.has_consent(user_id, ConsentPurpose.NEWS):
        return False
    consent.record(
        user_id,
        ConsentPurpose.NEWS,
        False,
        method=ConsentMethod.EMAIL_LINK,
        organisation_id=organisation_id,
        on_behalf_of="self",
    )
    audit.log_event(
        "consent.withdrawn", user, detail="news: unsubscribe link", organisation_id=organisation_id
    )
    db.session.commit()
    return True


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str):
    """GET: a page with one button. POST (that button, or a mail client's one-click): done."""
    from flask import request

    found = read_unsubscribe_token(token)
    if found is None:
        return render_template("privacy/unsubscribe.html", state="invalid"), 400
    if request.method == "GET":
        return render_template("privacy/unsubscribe.html", state="confirm", token=token)
    withdraw_news(*found)
    return render_template("privacy/unsubscribe.html", state="done")


csrf.exempt(unsubscribe)
