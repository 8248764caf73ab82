"""One transaction per public write function: the block commits on success and rolls back (and
re-raises) on any error, so a refusal or a crash leaves nothing half-saved. And a transaction
begins only at the first statement that writes or locks: plain reads run without BEGIN and
COMMIT (see below)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import psycopg
import sqlalchemy as sa
from psycopg import ServerCursor
from psycopg.pq import TransactionStatus

from app.core.extensions import db


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


# --- a transaction begins at the first statement that writes or locks ------------------------
#
# Hometime runs at PostgreSQL's default isolation, READ COMMITTED: every statement sees what was
# committed when it started, inside a transaction or not. A plain SELECT therefore gains nothing
# from a transaction, so psycopg runs one in autocommit mode when the connection has no
# transaction open, and sends BEGIN itself before the first statement that is anything else:
# a write, DDL, a SAVEPOINT, a SELECT that locks rows (FOR UPDATE / SHARE) or takes an advisory
# lock, a SELECT read through a server-side cursor (streamed results: DECLARE needs a
# transaction), or any statement this check does not know to be a plain read. From that BEGIN on,
# everything runs in the transaction and ``commit()`` / ``rollback()`` end it as always.
#
# A request that only read so sends neither BEGIN nor COMMIT (two of the parent home's four round
# trips), and the session's end-of-request ROLLBACK has nothing to roll back and sends nothing:
# psycopg keeps the statements it has prepared (it prepares a statement on its fifth run on a
# connection, and forgets them all on ROLLBACK), so PostgreSQL plans each once per connection.
# A connection asked for AUTOCOMMIT (``isolation_level="AUTOCOMMIT"``) is left as it was asked;
# one asked for a stricter level (REPEATABLE READ, SERIALIZABLE: one snapshot for every
# statement) begins its transaction at its first statement, reads included. A read through a
# server-side cursor begins one too: DECLARE needs a transaction.

_LOCKS_OR_WRITES = re.compile(
    r"\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|pg_advisory|set_config|nextval|setval",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=2048)  # the app's statements are built once and their text repeats
def plain_read(statement: str) -> bool:
    """True when ``statement`` is a SELECT that neither locks nor writes, so it may run outside a
    transaction; anything else (``WITH`` included: it may write) begins one."""
    return statement.lstrip()[:6].upper() == "SELECT" and not _LOCKS_OR_WRITES.search(statement)


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _begin_before_anything_but_a_read(conn, cursor, statement, parameters, context, executemany) -> None:
    raw = cursor.connection
    if UNCONFIRMED in raw.__dict__:  # a write sent alone is still to be answered: wait for it first
        confirm_sent(raw)
    # SQLAlchemy's own test for a connection asked for AUTOCOMMIT (by itself or by its engine)
    if raw.info.transaction_status != TransactionStatus.IDLE or conn._is_autocommit_isolation():
        return  # in a transaction already, or a connection asked for autocommit
    stricter = conn.get_execution_options().get("isolation_level")  # REPEATABLE READ: one snapshot
    alone = context is not None and context.execution_options.get(ALONE, False)  # see write_alone
    reads = not stricter and (alone or plain_read(statement)) and not isinstance(cursor, ServerCursor)
    if raw.autocommit is not reads:
        raw.autocommit = reads  # psycopg sends BEGIN before the statement when this is False


# --- one write on its own ---------------------------------------------------------------------
#
# A page that only reads but must record that it was seen (the access log, P15) used to write its
# one row as every write is: BEGIN, the INSERT, COMMIT, three round trips and SQLAlchemy's unit of
# work, a quarter of the class view. PostgreSQL runs a statement sent outside a transaction as a
# transaction of its own, committed when it succeeds and rolled back when it fails, so one
# statement needs neither BEGIN nor COMMIT. ``write_alone`` sends it so when the request has
# nothing else to write (no transaction open, nothing waiting in the session); otherwise the
# statement joins the request's transaction, which is committed as before.

ALONE = "hometime_write_alone"
UNCONFIRMED = "_hometime_unconfirmed"  # on a psycopg connection: a write sent, not yet answered


def confirm_sent(raw: psycopg.Connection) -> None:
    """Wait for the answer to a write sent alone on ``raw`` and not yet confirmed
    (``writing_alone``), if there is one; run before any other statement on the connection."""
    sent = raw.__dict__.get(UNCONFIRMED)
    if sent is not None:
        sent.confirm()


@sa.event.listens_for(sa.engine.Engine, "commit")
@sa.event.listens_for(sa.engine.Engine, "rollback")
def _answer_before_ending(conn: sa.Connection) -> None:
    """A transaction ended while a write sent alone is on its way (``COMMIT`` or ``ROLLBACK``
    would find the connection busy) reads its answer first."""
    if not conn.invalidated and (raw := conn.connection.dbapi_connection) is not None:
        confirm_sent(cast(psycopg.Connection, raw))


@sa.event.listens_for(sa.pool.Pool, "reset")
def _answer_before_reset(dbapi_connection, _record, _state) -> None:
    """The same for a connection the pool takes back and resets."""
    confirm_sent(dbapi_connection)


def write_alone(statement: sa.Executable, parameters: dict | None = None) -> None:
    """Run one write ``statement`` (with ``parameters``) and commit it: on its own (one round
    trip) when nothing else is being written, else with the transaction already open. Objects
    the session has loaded stay loaded either way (a page rendered from them reads none of them
    again). Committed at once either way: an error later in the request does not take it back.
    Sent on its own, an INSERT with values is compiled once and sent by psycopg
    (``direct_reads.DirectWrite``)."""
    session = db.session()
    connection = session.connection()
    driver = cast(psycopg.Connection, connection.connection.driver_connection)
    idle = driver.info.transaction_status == TransactionStatus.IDLE
    if idle and not (session.new or session.dirty or session.deleted):
        if isinstance(statement, sa.Insert) and parameters:  # compiled once, run by psycopg
            _direct_write(statement).run(connection, parameters, {ALONE: True})
        else:
            connection.execute(statement, parameters, execution_options={ALONE: True})
        return
    session.execute(statement, parameters)
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@contextmanager
def writing_alone(statement: sa.Insert, parameters: dict) -> Iterator[None]:
    """``with writing_alone(insert, values): ...``: ``write_alone``, with the block run while
    PostgreSQL writes. When the INSERT can be sent on its own it is sent before the block and its
    answer read after it, so the block (a page rendering) runs while PostgreSQL writes the row
    and waits for the disk; the block ends only once the row is committed, and a failed write is
    raised then, whatever the block did. A statement the block runs on the connection waits for
    the answer first, as do a commit, a rollback and the pool taking the connection back. Otherwise the statement is written before the block, as ``write_alone``
    writes it."""
    session = db.session()
    connection = session.connection()
    driver = cast(psycopg.Connection, connection.connection.driver_connection)
    idle = driver.info.transaction_status == TransactionStatus.IDLE
    if not (idle and parameters and not (session.new or session.dirty or session.deleted)):
        write_alone(statement, parameters)
        yield
        return
    sent = _direct_write(statement).send(connection, parameters, {ALONE: True})
    try:
        yield
    finally:
        sent.confirm()


@functools.lru_cache(maxsize=64)  # the app's statements written alone are built once
def _direct_write(statement: sa.Insert):
    from app.core.direct_reads import DirectWrite  # direct_reads imports this module

    return DirectWrite(statement)
