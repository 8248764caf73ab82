"""No input reaches a server error: every route, for every role, GET and POST, with ids beyond
PostgreSQL's integer range, NUL bytes in the query string, form fields and path, dates at the
ends of the calendar (in date fields and query strings) and huge page numbers."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, FileField

from app.core.extensions import db, limiter
from app.models import Role, UserStatus
from tests import factories as f
from tests import teaching as t

HUGE = "99999999999999999999"
# Query-string names the views read besides the forms' fields.
QUERY_NAMES = ("q", "page", "week", "as_of", "on", "kind", "subject", "year", "to", "next", "poll")
DATE_NAMES = ("week", "as_of", "on")


def _forms(cls=FlaskForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _forms(sub)


def form_fields() -> tuple[set[str], set[str], set[str]]:
    """Every field name of every form (and the names views read from ``request.form`` directly):
    text fields, date fields, date-time fields."""
    import app.auth.forms  # noqa: F401,E401

    text = {"on", "to", "version", "action", "note", "q", "user_id", "back", "activity_id"}
    dates, moments = {"on"}, set()
    for form in _forms():
        for name, unbound in getattr(form, "_unbound_fields", None) or [
            (n, v) for n, v in vars(form).items() if hasattr(v, "field_class")
        ]:
            kind = unbound.field_class
            if issubclass(kind, DateTimeLocalField):
                moments.add(name)
            elif issubclass(kind, DateField):
                dates.add(name)
            elif not issubclass(kind, FileField):
                text.add(name)
    return text, dates, moments


def url_for_rule(rule, ids: str, text: str) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if "Int" in kind:
            values[name] = int(ids)
        elif kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = text
    return rule.build(values, append_unknown=False)[1]


def shapes(text_fields, date_fields, moment_fields):
    """(name, path ids, path text, query, form) for each kind of bad input."""

    def query(value, names=QUERY_NAMES):
        return {name: value for name in names}

    def form(text=None, date=None, moment=None):
        data = {name: text for name in text_fields} if text is not None else {}
        data.update({name: date for name in date_fields} if date else {})
        data.update({name: moment for name in moment_fields} if moment else {})
        return data

    return [
        ("huge ids", HUGE, "token", {}, {}),
        ("nul bytes", "1", "to\x00ken", query("a\x00b"), form(text="a\x00b", date="2026-01-05\x00")),
        (
            "far future",
            "1",
            "token",
            query("9999-12-31", DATE_NAMES) | {"page": "1"},
            form(text="9999-12-31", date="9999-12-31", moment="9999-12-31T23:59"),
        ),
        (
            "far past",
            "1",
            "token",
            query("0001-01-01", DATE_NAMES),
            form(text="0001-01-01", date="0001-01-01", moment="0001-01-01T00:00"),
        ),
        ("huge page", "1", "token", {"page": HUGE}, form(text=HUGE)),
        ("negative page", "1", "token", {"page": "-" + HUGE}, form(text="-1")),
    ]


@pytest.fixture()
def people(ctx):
    org = f.school()
    cls = f.school_class(org)
    mum = f.parent(mobile="+447700900123")
    f.pupil(cls, mum)
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    office = f.staff(org, Role.OFFICE)
    activity = t.activity(org)
    t.topic(org, [cls], [activity])
    return {"anonymous": None, "parent": mum, "teacher": teacher, "office": office}


def signed_in(app, user):
    """A browser signed in as ``user`` (afresh for each route: an earlier route may have signed
    them out, everywhere, or closed the account)."""
    client = app.test_client()
    if user is not None:
        db.session.refresh(user)
        user.status = UserStatus.ACTIVE
        db.session.commit()
        f.login(client, user)
    return client


@pytest.mark.parametrize("role", ["anonymous", "parent", "teacher", "office"])
def test_no_input_reaches_a_server_error(app, people, role):
    fields = form_fields()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    failures = []
    was = limiter.enabled
    limiter.enabled = False  # every route is asked many times: reach the view, not the limit
    try:
        for rule in rules:
            client = signed_in(app, people[role])
            for name, ids, text, query, data in shapes(*fields):
                path = url_for_rule(rule, ids, text)
                for method in sorted(rule.methods & {"GET", "POST"}):
                    for htmx in ({}, {"HX-Request": "true"}):
                        try:
                            response = client.open(
                                path,
                                method=method,
                                query_string=query,
                                data=data if method == "POST" else None,
                                headers=htmx,
                            )
                            status = response.status_code
                        except Exception as error:  # noqa: BLE001 - what we are looking for
                            status = f"{type(error).__name__}: {str(error)[:120]}"
                        if not isinstance(status, int) or status >= 500:
                            failures.append(f"{method} {path} [{name}]{' htmx' if htmx else ''}: {status}")
    finally:
        limiter.enabled = was
    assert not failures, "\n".join(failures)


def test_what_each_shape_answers(app, people):
    teacher = signed_in(app, people["teacher"])
    r = teacher.get("/teach/classes/99999999999999999999")
    assert r.status_code == 404 and "find that page" in r.get_data(as_text=True)
    assert teacher.get(f"/teach/classes/{2**31}").status_code == 404
    r = teacher.get("/teach/library", query_string={"q": "stairs\x00"})
    assert r.status_code == 400 and "was not right" in r.get_data(as_text=True)
    assert teacher.post("/teach/topics/new", data={"title": "A\x00"}).status_code == 400
    page = teacher.get("/teach/library", query_string={"page": HUGE})
    assert page.status_code == 200 and "Count the stairs" not in page.get_data(as_text=True)
    assert teacher.get("/teach/classes/1", query_string={"week": "9999-12-31"}).status_code == 200
    # The planner's search URL opened without htmx (no JavaScript, a shared link): the planner.
    r = teacher.get("/teach/topics/1/search", query_string={"q": "stairs"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" in html and "Count the stairs" in html
