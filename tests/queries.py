"""Counting SQL statements for the tests' query budgets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from app.core.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements the database engine runs inside the ``with`` block, in order.

    The listener is always removed, so a failing test leaves no counter behind."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
