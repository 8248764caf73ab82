"""One transaction per public write function: the block commits on success and rolls back (and
re-raises) on any error, so a refusal or a crash leaves nothing half-saved. And a transaction
begins only at the first statement that writes or locks: plain reads run without BEGIN and
COMMIT (see below)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager

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
    # SQLAlchemy's own test for a connection asked for AUTOCOMMIT (by itself or by its engine)
    if raw.info.transaction_status != TransactionStatus.IDLE or conn._is_autocommit_isolation():
        return  # in a transaction already, or a connection asked for autocommit
    stricter = conn.get_execution_options().get("isolation_level")  # REPEATABLE READ: one snapshot
    reads = not stricter and plain_read(statement) and not isinstance(cursor, ServerCursor)
    if raw.autocommit is not reads:
        raw.autocommit = reads  # psycopg sends BEGIN before the statement when this is False
