"""PostgreSQL plans each of a connection's prepared statements once, except one that binds a long
list, which it plans for the list it is given.

psycopg prepares a statement on its fifth run on a connection. PostgreSQL then chooses, on every
run, between the plan it made once for any values (generic) and a plan made again for the values
given (custom), and takes the custom one whenever it estimates the generic one dearer. A list
bound as one array (``= ANY($1)``: a user's schools, ``bound_list``) it takes for ten values, so
a statement with one looked dearer made once, and most of the pages' reads were planned again on
every request, planning often costing more than running (a topic with its activities 0.24–0.58 ms
to plan against 0.08–0.17 ms to run; the retention page's counts 2.7 ms against 1.5 ms).

So every connection asks PostgreSQL for the plan made once (``plan_cache_mode =
force_generic_plan``), sent before the first statement the connection runs outside a transaction
(``SET`` outside a transaction is its own transaction: nothing can roll it back).

A plan made once cannot hash a list it does not know: it compares each row with every item.
That is nothing for a user's two schools and a lot for the roster import's 9,000 addresses
(``lower(email) = ANY($1)``: 2.9–3.8 s on a plan made for any list against 0.17 s). PostgreSQL
applies the setting to a statement sent unprepared as well. So a statement that binds a list
longer than ``LONG`` (or more than ``LONG`` values, or runs for more than ``LONG`` rows) is planned
as PostgreSQL chooses (``auto``): outside a transaction the connection is switched back to
``auto`` before it and to the plan made once before the next statement that binds no long list;
inside one, ``SET LOCAL`` keeps ``auto`` to the end of that transaction (a commit or a rollback
ends it, and ends the ``SET LOCAL`` with it). Each switch is one round trip; pages bind no long
lists and never switch.

An app built with ``GENERIC_PLANS = False`` leaves PostgreSQL's own choice throughout.
"""

from __future__ import annotations

from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask
from psycopg import generators, pq
from psycopg.pq import TransactionStatus

from app.core.transactions import confirm_sent

LONG = 100  # a list, or values, or rows, longer than this: planned for what is given
GENERIC, AUTO = "generic", "auto"
_SET = {
    GENERIC: b"SET plan_cache_mode = force_generic_plan",
    AUTO: b"SET plan_cache_mode = auto",
}
_AUTO_HERE = b"SET LOCAL plan_cache_mode = auto"
MODE = "_hometime_plan_mode"  # on a psycopg connection: what its session has, once this sets it
LOCAL = "_hometime_plan_local"  # on a psycopg connection: its transaction has SET LOCAL auto
_UNSET = "unset"  # a new connection: PostgreSQL's own setting, whatever the server's default


def init_app(app: Flask) -> None:
    """Plan once on the connections of ``app``'s engine, unless ``GENERIC_PLANS`` is false."""
    if not app.config.get("GENERIC_PLANS", True):
        return
    from app.core.extensions import db

    with app.app_context():
        sa.event.listen(db.engine, "connect", _new_connection)


def _new_connection(dbapi_connection, _record) -> None:
    dbapi_connection.__dict__[MODE] = _UNSET


def _long(parameters: Any, executemany: bool) -> bool:
    """True when a statement binds a list longer than ``LONG``, more values than that, or runs for
    more rows than that."""
    if executemany:
        return len(parameters) > LONG
    if not parameters:
        return False
    values = parameters.values() if isinstance(parameters, dict) else parameters
    return len(values) > LONG or any(isinstance(v, list | tuple) and len(v) > LONG for v in values)


def _send(raw: psycopg.Connection, command: bytes) -> None:
    """Run one ``SET`` on ``raw`` as it is: outside a transaction when none is open (psycopg
    sends no BEGIN for it), inside the open one otherwise; after the answer to a write sent
    alone and not yet read (``transactions.writing_alone``)."""
    confirm_sent(raw)
    raw.pgconn.send_query(command)
    results = raw.wait(generators.execute(raw.pgconn))
    if not results or results[-1].status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.OperationalError(f"{command.decode()} failed")


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _plan_mode(conn, cursor, statement, parameters, context, executemany) -> None:
    raw = cursor.connection
    found = raw.__dict__
    mode = found.get(MODE)
    if mode is None:
        return  # an engine that leaves PostgreSQL's choice (GENERIC_PLANS false)
    long = _long(parameters, executemany)
    status = raw.info.transaction_status
    if status == TransactionStatus.IDLE:
        found.pop(LOCAL, None)  # a transaction that switched to auto has ended
        wanted = AUTO if long else GENERIC
        if mode != wanted:
            _send(raw, _SET[wanted])
            found[MODE] = wanted
    elif long and mode != AUTO and status == TransactionStatus.INTRANS and not found.get(LOCAL):
        _send(raw, _AUTO_HERE)
        found[LOCAL] = True


@sa.event.listens_for(sa.engine.Engine, "commit")
@sa.event.listens_for(sa.engine.Engine, "rollback")
def _transaction_ended(conn: sa.Connection) -> None:
    if not conn.invalidated and (raw := conn.connection.dbapi_connection) is not None:
        raw.__dict__.pop(LOCAL, None)


@sa.event.listens_for(sa.pool.Pool, "reset")
def _reset(dbapi_connection, _record, _state) -> None:
    dbapi_connection.__dict__.pop(LOCAL, None)
