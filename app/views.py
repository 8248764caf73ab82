"""Pages outside the blueprints: the front door, the privacy notice, the cookie list, health."""

from __future__ import annotations

import logging
from functools import lru_cache

import redis
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    get_template_attribute,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on

from app.core import i18n
from app.core.authz import NOT_LOADED, layout_column, layout_value, public
from app.core.contexts import signed_in_user
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.models import Guardianship, Organisation, OrgKind, PrivacyNotice, Pupil, User, UserKind, bound_list

log = logging.getLogger(__name__)
bp = Blueprint("site", __name__)

# Every cookie Hometime sets (P06). Necessary ones only, until someone chooses otherwise.
COOKIES = [
    {
        "name": "session",
        "category": _l("necessary"),
        "lifetime": _l("until you close the browser"),
        "purpose": _l("Keeps you signed in while you use Hometime and protects forms from forgery."),
    },
    {
        "name": "remember_token",
        "category": _l("necessary"),
        "lifetime": _l("90 days"),
        "purpose": _l("Only if you tick \u201ckeep me signed in\u201d: signs you in on this phone."),
    },
    {
        "name": "cookie_choice",
        "category": _l("necessary"),
        "lifetime": _l("1 year"),
        "purpose": _l("Remembers your choice about optional cookies, so we don't ask on every page."),
    },
    {
        "name": "lang",
        "category": _l("necessary"),
        "lifetime": _l("1 year"),
        "purpose": _l("Only if you choose a language before signing in: shows Hometime in that language."),
    },
    {
        "name": _l("YouTube or Vimeo player cookies"),
        "category": _l("functional"),
        "lifetime": _l("set by YouTube or Vimeo (up to 2 years)"),
        "purpose": _l(
            "Only if you allow functional cookies and then play a video: the video site's "
            "player sets its own cookies."
        ),
    },
]


def init_app(app) -> None:
    """Register the site pages, the htmx conventions and what every page template needs."""
    from app.core import htmx

    app.register_blueprint(bp)
    htmx.init_app(app)

    @app.context_processor
    def _layout():
        # Functions, not values: only the layout calls them, so fragments, e-mails and jobs
        # rendering templates pay nothing.
        return {"page_footer": page_footer, "staff_is_office": _staff_is_office}


@lru_cache(maxsize=1)
def _first_two_schools() -> DirectRead:
    """Two schools at most: whether this Hometime serves exactly one (a visitor's footer)."""
    return DirectRead(
        sa.select(Organisation).where(Organisation.kind == OrgKind.SCHOOL).order_by(Organisation.id).limit(2)
    )


def looker_organisations() -> list[Organisation]:
    """The schools whose data the person looking is about (cached for the request).

    Staff: their school.  A parent: the school of each linked child (two schools, two).  Anyone
    else: the school, when this Hometime serves exactly one school; otherwise none.
    """
    if not has_request_context():
        return []
    cached = g.get("_looker_orgs")
    if cached is not None:
        return cached
    from app.core.authz import current_organisation, linked_pupils

    orgs: list[Organisation] = []
    if current_user.is_authenticated:
        if current_user.is_staff:
            org = current_organisation()
            orgs = [org] if org else []
        else:
            org_ids = linked_pupils(current_user).order_by(None).with_only_columns(Pupil.organisation_id)
            orgs = list(
                db.session.scalars(
                    sa.select(Organisation)
                    .where(Organisation.id.in_(org_ids))
                    .order_by(Organisation.name, Organisation.id)
                )
            )
    if not orgs:
        schools = _first_two_schools().scalars({})
        orgs = schools if len(schools) == 1 else []
    g._looker_orgs = orgs
    return orgs


@layout_column("contacts", lambda: request.method == "GET")  # a page with a footer
def _contacts_column():
    """For the footer, in the user loader's query: the data protection officer of each school of
    a parent's children (or of the only school, if they have none), as JSON ``[school, name,
    email, notice url]`` ordered as :func:`looker_organisations`; NULL for staff, whose school the
    loader has already read."""
    o, p, g_ = sa.orm.aliased(Organisation), sa.orm.aliased(Pupil), sa.orm.aliased(Guardianship)
    item = sa.func.json_build_array(o.name, o.dpo_name, o.dpo_email, o.privacy_notice_url)
    children = (
        sa.select(p.organisation_id)
        .join(g_, g_.pupil_id == p.id)
        .where(g_.parent_id == User.id, g_.removed_at.is_(None), p.erased_at.is_(None))
        .correlate(User)
    )
    theirs = (
        sa.select(sa.func.json_agg(aggregate_order_by(item, o.name, o.id)))
        .where(o.id.in_(children))
        .correlate(User)
        .scalar_subquery()
    )
    school = sa.orm.aliased(Organisation)
    first_two = (
        sa.select(school.name, school.dpo_name, school.dpo_email, school.privacy_notice_url)
        .where(school.kind == OrgKind.SCHOOL)
        .order_by(school.id)
        .limit(2)
    ).subquery()
    only = (
        sa.select(
            sa.func.json_agg(
                sa.func.json_build_array(
                    first_two.c.name,
                    first_two.c.dpo_name,
                    first_two.c.dpo_email,
                    first_two.c.privacy_notice_url,
                )
            )
        )
        .having(sa.func.count() == 1)
        .scalar_subquery()
    )
    # COALESCE evaluates ``only`` only for a parent without linked children.
    return sa.case((User.kind == UserKind.STAFF, sa.null()), else_=sa.func.coalesce(theirs, only))


def _contact(school: str, name: str | None, email: str, url: str | None) -> dict:
    url = url or ""
    return {
        "school": school,
        "name": name,
        "email": email,
        "notice_url": url if url.startswith(("https://", "http://")) else None,
    }


def privacy_contacts() -> list[dict]:
    """Whom to ask about your data (P11): the data protection officer of each school in
    :func:`looker_organisations`; none for a stranger to a many-school Hometime (the footer then
    says to ask their school).  Each contact: school, name, email, notice_url.  A signed-in
    parent's were read with their row by the user loader (``_contacts_column``)."""
    user = signed_in_user()  # None outside a request
    if user is not None and user.is_authenticated and not user.is_staff:
        loaded = layout_value("contacts")
        if loaded is not NOT_LOADED:
            return [_contact(*row) for row in loaded or []]
    return [
        _contact(org.name, org.dpo_name, org.dpo_email, org.privacy_notice_url)
        for org in looker_organisations()
    ]


def page_footer(page_language: i18n.Language, language_next: str):
    """The layout's footer (templates/_footer.html): the contacts (read for this request), the
    languages, the privacy links and the ICO. Every page draws it, so the drawing is remembered
    per process for everything it shows: the contacts, the page's language and address."""
    contacts = tuple((c["school"], c["name"], c["email"], c["notice_url"]) for c in privacy_contacts())
    root = request.script_root if has_request_context() else ""
    return _footer(contacts, page_language.code, language_next, root, current_app.config["ICO_URL"])


@lru_cache(maxsize=1024)
def _footer(contacts: tuple, code: str, language_next: str, script_root: str, ico_url: str):
    keys = ("school", "name", "email", "notice_url")
    shown = [dict(zip(keys, contact, strict=True)) for contact in contacts]
    return get_template_attribute("_footer.html", "footer")(shown, i18n.LANGUAGES[code], language_next)


def _staff_is_office() -> bool:
    """The nav's Office link: for someone who runs the office of at least one school (the office
    pages then act only on such a school)."""
    from app.core.authz import office_organisation_ids

    return bool(
        has_request_context()
        and current_user.is_authenticated
        and current_user.is_staff
        and office_organisation_ids(current_user)
    )


@bp.get("/")
@public
def index():
    if current_user.is_authenticated:
        if current_user.is_parent:
            return redirect(url_for("parents.home"))
        return redirect(url_for("teachers.home"))
    return render_template("index.html")


@lru_cache(maxsize=1)
def _latest_notices() -> DirectRead:
    """The latest published version of Hometime's own notice and of each school's in
    ``:schools``, one per owner (``DISTINCT ON``), in one read built once."""
    n = PrivacyNotice
    return DirectRead(
        sa.select(n)
        .ext(distinct_on(n.organisation_id))
        .where(
            sa.or_(
                n.organisation_id.is_(None), n.organisation_id == sa.any_(bound_list("schools", sa.Integer))
            ),
            n.published_at.is_not(None),
        )
        .order_by(n.organisation_id, n.published_at.desc(), n.id.desc())
    )


@bp.get("/privacy-notice")
@public
def privacy_notice():
    """Hometime's own notice and the notice of each school the visitor belongs to (latest
    published version of each)."""
    orgs = looker_organisations()
    latest = {
        notice.organisation_id: notice
        for notice in _latest_notices().scalars({"schools": [org.id for org in orgs]})
    }
    notices = []
    for org in [None, *orgs]:  # Hometime's own first, then each school's
        notice = latest.get(org.id if org is not None else None)
        if notice is not None:
            notices.append((org, notice))
    return render_template("privacy_notice.html", notices=notices)


@bp.get("/cookies")
@public
def cookies():
    return render_template("cookies.html", cookies=COOKIES)


@bp.get("/language/<code>")
@public
def choose_language(code: str):
    """The footer's language links: one plain GET each, so they work without JavaScript."""
    if code not in i18n.LANGUAGES:
        abort(404)
    return i18n.switch(code)


@bp.get("/healthz")
@public
def health():
    """For the load balancer and whoever is on call: whether PostgreSQL and Redis answer (200),
    or which of them does not (503), e.g. ``{"status": "unavailable", "db": "down",
    "redis": "ok"}``."""
    checks = {"db": _database_answers(), "redis": _redis_answers()}
    ok = all(checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        **{name: "ok" if up else "down" for name, up in checks.items()},
    }
    return body, 200 if ok else 503, {"Cache-Control": "no-store"}


def _database_answers() -> bool:
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError as error:
        log.error("health check: database unreachable: %s", error.__class__.__name__)
        return False


def _redis_answers() -> bool:
    from app.core.redis_conn import get_redis

    try:
        return bool(get_redis(current_app).ping())
    except redis.exceptions.RedisError as error:
        log.error("health check: Redis unreachable: %s", error.__class__.__name__)
        return False
