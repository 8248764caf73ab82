"""One-click unsubscribe from optional (news) emails (P09, RFC 8058).

Every optional email carries ``List-Unsubscribe: <.../privacy/unsubscribe/<token>>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: a mail client's POST to that address
withdraws the NEWS consent at once, with no sign-in and no CSRF token (the signed token is the
authority). The same link in the email body opens a page with one button, so a link-checker
fetching it with GET never unsubscribes anyone by accident.
"""

from __future__ import annotations

from flask import render_template

from app.core.authz import public
from app.core.extensions import csrf
from app.messaging.notify import read_unsubscribe_token
from app.messaging.unsubscribe import withdraw_news
from app.privacy import bp


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
