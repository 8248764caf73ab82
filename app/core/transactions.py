"""One transaction per public write function: the block commits on success and rolls back (and
re-raises) on any error, so a refusal or a crash leaves nothing half-saved. And a request that
only read ends with COMMIT, so PostgreSQL keeps what it has planned (see below)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.extensions import db

log = logging.getLogger(__name__)


@contextmanager
def transaction() -> Iterator[None]:
    """``with transaction(): ...``: commit when the block ends normally (a ``return`` inside it
    included); on any exception roll back and re-raise it."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# --- a request that only read ends its transaction with COMMIT ---------------------------------
#
# psycopg prepares a statement the fifth time a connection runs it, so PostgreSQL plans it once
# (the signed-in person's query costs about 1 ms to plan, more than to run), but it forgets every
# prepared statement on ROLLBACK (in case the rollback undid a schema change), and removing a
# request's session rolls back. A transaction that only ran SELECTs ends the same either way, so
# such a request commits instead: the parent home's queries then take half the time.


_WROTE = "wrote"  # on a Connection: a statement other than a SELECT ran in its transaction
_CONNECTION = "reads_connection"  # on a Session: the connection its transaction began on


@sa.event.listens_for(sa.engine.Engine, "begin")
def _fresh(conn) -> None:
    conn.info[_WROTE] = False


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany) -> None:
    if not statement.lstrip().startswith(("SELECT", "select")):  # WITH may write: counted as one
        conn.info[_WROTE] = True


@sa.event.listens_for(Session, "after_begin")
def _remember(session, transaction, connection) -> None:
    session.info[_CONNECTION] = connection


def only_read(session: Session) -> bool:
    """True when ``session``'s open transaction ran only SELECTs and holds nothing to write or to
    do on commit (pending objects, queued jobs, files to delete), so COMMIT and ROLLBACK end it
    alike."""
    connection = session.info.get(_CONNECTION)
    if connection is None or connection.closed or not connection.in_transaction():
        return False
    if connection.info.get(_WROTE, True) or session.new or session.dirty or session.deleted:
        return False
    return not any(key != _CONNECTION for key in session.info)  # jobs, messages or files waiting


def init_app(app) -> None:
    @app.teardown_request
    def _end_reads(exc) -> None:
        session = db.session()
        if exc is None and session.in_transaction() and only_read(session):
            try:
                session.commit()
            except sa.exc.DBAPIError:  # the database went away: removing the session rolls back
                log.info("a read-only request could not commit; it is rolled back")
