"""The weekly-topic planner page: the topic's activities in order, add (htmx search-as-you-type),
remove, move up and down. Every form carries the topic's version (two editors: see topics.py)."""

from __future__ import annotations

from flask import redirect, request, url_for

from app.core.authz import staff_required
from app.core.extensions import db
from app.core.htmx import add_vary, is_htmx, redirect_after_post, render
from app.learning import activities, topics
from app.learning.activities import KIND_LABELS
from app.learning.scope import activity_or_404, topic_or_404
from app.learning.teacher_forms import PublishForm
from app.learning.topics import StaleTopic, TopicError
from app.models import TopicStatus
from app.params import db_int
from app.teachers import bp

RESULTS = 6  # keeps the search fragment small on a phone's connection (≤ 2 KB)
CONFLICT = (
    "Someone else changed this topic after you opened it, so your change was not saved "
    "and nothing was overwritten. This is the topic as it is now: please make your change "
    "again if it is still needed."
)


_SHOWN = ("id", "title", "kind")  # the columns the results show, as rows: no mapped objects for a list


def _search(topic, q: str):
    """Up to RESULTS library activities not yet in the topic (suggestions for its year group
    when nothing is typed)."""
    groups = sorted({c.year_group for c in topic.classes})
    year_group = groups[0] if not q and len(groups) == 1 else ""
    # what is already in the topic is found too (marked as such): a search for the activity just
    # added never says that nothing matches
    found = activities.search(
        topic.organisation_id,
        _SHOWN,
        limit=RESULTS + 1,
        text=q,
        year_group=year_group,
        exclude_ids=[] if q else [i.activity_id for i in topic.items],
    )
    return found[:RESULTS], len(found) > RESULTS


def render_planner(
    topic, *, status: int = 200, message: str | None = None, publish_form: PublishForm | None = None
):
    """The planner page (or, for a partial htmx request, its #planner block)."""
    q = request.values.get("q", "")[:100]
    results, more = _search(topic, q)
    org = topic_org(topic)
    usual = topics.usual_publish_time(org, topic.week_start)
    if publish_form is None:
        # "now or when?": the school's usual time (Monday 08:00) chosen when it is still ahead
        scheduled = _local(topic.publish_at, org.timezone)
        when = scheduled.replace(tzinfo=None) if scheduled else usual
        publish_form = PublishForm(
            formdata=None,
            data={"version": topic.version, "when": "later" if when else "now", "publish_at": when},
        )
    return render(
        "teachers/planner.html",
        "planner",
        status=status,
        topic=topic,
        items=sorted(topic.items, key=lambda i: i.position),
        q=q,
        results=results,
        more=more,
        message=message,
        publish_form=publish_form,
        kinds=KIND_LABELS,
        in_topic={i.activity_id for i in topic.items},
        TopicStatus=TopicStatus,
        tz=org.timezone,
        usual=usual,
        publish_at_local=_local(topic.publish_at, org.timezone),
    )


def topic_org(topic):
    """The topic's school (for its time zone)."""
    from app.models import Organisation

    return db.session.get(Organisation, topic.organisation_id)


def _local(value, tz: str):
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz or "Europe/London"))


@bp.get("/topics/<int:topic_id>")
@staff_required()
def planner(topic_id: int):
    """The planner page; ``?q=`` searches the library without JavaScript."""
    return render_planner(topic_or_404(topic_id))


@bp.get("/topics/<int:topic_id>/search")
@staff_required()
def planner_search(topic_id: int):
    """Search-as-you-type: only the results block (kept under 2 KB). Opened any other way (a
    plain or boosted browser, a bookmark), it is the planner page with the same search."""
    topic = topic_or_404(topic_id)
    q = request.args.get("q", "")[:100]
    if not is_htmx():
        return add_vary(redirect(url_for("teachers.planner", topic_id=topic.id, q=q or None)))
    results, more = _search(topic, q)
    return render(
        "teachers/planner.html",
        "results",
        topic=topic,
        q=q,
        results=results,
        more=more,
        kinds=KIND_LABELS,
        in_topic={i.activity_id for i in topic.items},
    )


def _version() -> int | None:
    try:
        return db_int(request.form.get("version", ""))
    except ValueError:
        return None


def _after(topic, change):
    """Run one change to the topic; 409 with the current state if the form was stale or the
    change clashes with it, 404 if the item is gone, 422 if the change was refused; otherwise
    back to the planner."""
    try:
        change()
    except StaleTopic:
        db.session.rollback()
        return render_planner(topic_or_404(topic.id), status=409, message=CONFLICT)
    except TopicError as error:
        db.session.rollback()
        return render_planner(topic_or_404(topic.id), status=error.status, message=error.message)
    q = request.form.get("q", "")[:100]
    return redirect_after_post(url_for("teachers.planner", topic_id=topic.id, q=q or None))


@bp.post("/topics/<int:topic_id>/items")
@staff_required()
def planner_add(topic_id: int):
    """Append a library activity to the topic."""
    topic = topic_or_404(topic_id)
    activity = activity_or_404(request.form.get("activity_id", 0, type=db_int))
    return _after(topic, lambda: topics.add_activity(topic, _version(), activity))


@bp.post("/topics/<int:topic_id>/items/<int:item_id>/remove")
@staff_required()
def planner_remove(topic_id: int, item_id: int):
    """Take an activity out of the topic (it stays in the library)."""
    topic = topic_or_404(topic_id)
    return _after(topic, lambda: topics.remove_item(topic, _version(), item_id))


@bp.post("/topics/<int:topic_id>/items/<int:item_id>/move")
@staff_required()
def planner_move(topic_id: int, item_id: int):
    """Move an activity one place up or down."""
    topic = topic_or_404(topic_id)
    step = -1 if request.form.get("direction") == "up" else 1
    return _after(topic, lambda: topics.move_item(topic, _version(), item_id, step))
