"""Fixtures: one app on real PostgreSQL, Redis and SeaweedFS (S3) for the whole run; a clean
database, Redis and bucket per test."""

from __future__ import annotations

import contextvars
import shutil
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests import services

# Fixtures shared across folders, registered here once: test files name them as arguments and
# never import them. Plain helpers (factories, *_data.py, provider_stub.py, ...) are imported.
pytest_plugins = [
    "tests.fixtures.joining",
    "tests.fixtures.photos",
    "tests.fixtures.providers",
    "tests.fixtures.redis_server",
]


@pytest.fixture(scope="session")
def _servers():
    # A private folder, not pytest's tmp_path: pytest prunes old base folders, and a concurrent
    # run on the same machine would delete this run's database from under it.
    workdir = Path(tempfile.mkdtemp(prefix="hometime-test-"))
    db_url, pg = services.postgres_url(workdir, durable=False)
    redis_url, own_redis = services.redis_server(workdir)
    s3, seaweed = services.object_store(workdir)
    yield {"db": db_url, "redis": redis_url, "workdir": workdir, "s3": s3, "seaweed": seaweed}
    if seaweed is not None:
        services.stop_object_store(seaweed)
    if own_redis:
        services.stop_redis(redis_url)
    if pg is not None:
        pg.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)


def _compile_catalogs() -> None:
    """Compile each language's .po into the .mo Flask-Babel reads (as `make install` does): the
    .mo files are not in git, so a fresh clone's test run would otherwise speak only English."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parents[1].glob("app/translations/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parents[1].name)
        with mo.open("wb") as target:
            write_mo(target, catalog)


@pytest.fixture(scope="session")
def app(_servers):
    from flask_migrate import upgrade

    from app import create_app

    _compile_catalogs()

    app = create_app(
        {
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": _servers["db"],
            "REDIS_URL": _servers["redis"],
            "STORAGE_DIR": str(_servers["workdir"] / "files"),
            **_servers["s3"],
            "RATELIMIT_ENABLED": True,
        }
    )
    with app.app_context():
        upgrade()  # the migrations, from empty, on PostgreSQL
    app.test_client_class = Client
    return app


class Client(FlaskClient):
    """Runs each request in its own app context, as a real server does, so nothing (``g``, the
    signed-in user, the database session) leaks from the test body into the request or back."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        from flask import has_app_context

        if has_app_context():
            from app.core.extensions import db

            db.session.expire_all()
        return response


@pytest.fixture(autouse=True)
def _clean(request, _servers):
    """Every test starts with empty tables and an empty Redis."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from app.core.extensions import db
    from app.core.redis_conn import get_redis

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            services.empty_tables(conn, db.metadata.sorted_tables)
        get_redis(app).flushdb()
        services.empty_bucket(_servers["s3"])


@pytest.fixture()
def ctx(app):
    """An application context (and so a database session) for the test body."""
    with app.app_context():
        yield
        from app.core.extensions import db

        db.session.remove()


@pytest.fixture()
def client(app, ctx):
    return app.test_client()


@pytest.fixture()
def run_jobs(app):
    """Drain the queues with a real RQ worker (burst mode) against the suite's Redis.

    The worker runs outside the test's app context, as a separate worker process would, so each
    job gets its own app context and database session. Returns the number of jobs that failed.
    """
    from rq import SimpleWorker

    from app.core.jobs import set_worker_app
    from app.core.redis_conn import get_redis

    set_worker_app(app)

    def drain(queues=("default",)) -> int:
        from rq.registry import FailedJobRegistry

        conn = get_redis(app)
        worker = SimpleWorker(list(queues), connection=conn)
        contextvars.Context().run(worker.work, burst=True, with_scheduler=False)
        return sum(FailedJobRegistry(q, connection=conn).count for q in queues)

    return drain


class WorkingClient(Client):
    """A browser whose every request is followed by a real worker running the jobs it queued
    (signing in by link or code sends its message from a job), as a busy worker would."""

    drain = None

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        assert self.drain() == 0, "a queued job failed"
        return response


@pytest.fixture()
def working_client(app, ctx, run_jobs):
    client = WorkingClient(app, app.response_class, use_cookies=True)
    client.drain = run_jobs
    return client
