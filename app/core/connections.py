"""A pooled PostgreSQL connection that the server has closed is replaced before a request uses it,
without asking the server anything.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` each time a request takes a connection from the
pool: one more round trip on every request (about 0.1 ms here, a twentieth of a family page). An
idle connection has nothing to read: the server sends nothing unasked (Hometime uses no
LISTEN/NOTIFY). When PostgreSQL stops or restarts, it tells each connection so and closes it,
so the connection's socket becomes readable; when its process is killed, the kernel closes the
socket, with the same effect. So at checkout a readable socket, or a connection psycopg already
knows is closed, is thrown away and the pool opens a new one (``DisconnectionError``). While the
server is down, opening one fails and the page says "busy for a moment"
(tests/core/test_db_restart.py).
"""

from __future__ import annotations

import select

import sqlalchemy as sa


@sa.event.listens_for(sa.pool.Pool, "checkout")
def _closed_by_the_server(dbapi_connection, connection_record, connection_proxy) -> None:
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        raise sa.exc.DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as error:  # the socket itself is gone
        raise sa.exc.DisconnectionError("the connection's socket is gone") from error
    if readable:
        raise sa.exc.DisconnectionError("the server closed the connection, or sent something unasked")
