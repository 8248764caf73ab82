"""Set-based writes of many rows: one statement per table, whatever the row count.

The rows travel as one array per column and are spread out with ``unnest`` (so the SQL text stays
small however many rows there are: psycopg does not have to parse a statement with thousands of
placeholders). Column defaults declared on the models (``created_at`` and the like) are applied
here, as the ORM would.
"""

from __future__ import annotations

import enum
from itertools import groupby
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from app.core.extensions import db

_PG = postgresql.dialect()
_quote = _PG.identifier_preparer.quote


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def _sql_type(table: sa.Table, key: str) -> str:
    return table.c[key].type.compile(dialect=_PG)


def _defaults(table: sa.Table, given) -> dict:
    """The model's Python-side defaults for the columns ``given`` leaves out (one value each)."""
    values = {}
    for column in table.columns:
        default = column.default
        if column.key in given or column.primary_key or default is None:
            continue
        if isinstance(default, ScalarElementColumnDefault):
            values[column.key] = default.arg
        elif isinstance(default, CallableColumnDefault):
            # SQLAlchemy wraps the model's no-argument default to take a context it then ignores
            values[column.key] = default.arg(None)  # type: ignore[arg-type]
    return values


def _unnest(table: sa.Table, rows: list[dict], keys: list[str], params: dict) -> str:
    arrays = []
    for i, key in enumerate(keys):
        params[f"a{i}"] = [_plain(row[key]) for row in rows]
        arrays.append(f"CAST(:a{i} AS {_sql_type(table, key)}[])")
    return "unnest(" + ", ".join(arrays) + ")"


def rows_changed(statement: sa.Executable) -> int:
    """Run an UPDATE or DELETE in the session; how many rows it matched.

    ``Session.execute`` is typed as returning a ``Result``; for these statements it is the
    driver's ``CursorResult``, which carries the count.
    """
    result = cast("CursorResult[Any]", db.session.execute(statement))
    return result.rowcount


def any_of(expression, values: list[str]):
    """``expression IN values`` as one array parameter (not one per value)."""
    return expression == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(sa.Text)))


def insert_many(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) and return their new ids in the same order."""
    if not rows:
        return []
    table = model.__table__
    keys = list(rows[0])
    fixed = _defaults(table, keys)
    params: dict = {}
    source = _unnest(table, rows, keys, params)
    names = [f"c{i}" for i in range(len(keys))]
    selected = [f"v.{n}" for n in names]
    for j, (key, value) in enumerate(fixed.items()):
        params[f"d{j}"] = _plain(value)
        selected.append(f"CAST(:d{j} AS {_sql_type(table, key)})")
    columns = ", ".join(_quote(k) for k in [*keys, *fixed])
    sql = (
        f"INSERT INTO {_quote(table.name)} ({columns}) SELECT {', '.join(selected)} "
        f"FROM {source} WITH ORDINALITY AS v({', '.join(names)}, ord) ORDER BY v.ord "
        f"RETURNING id"
    )
    # Ids come from the sequence in the order of ORDER BY, so ascending ids follow ``rows``.
    return sorted(db.session.scalars(sa.text(sql), params))


def update_many(model, rows: list[dict]) -> None:
    """Update rows by primary key: each dict has ``id`` and the columns to set."""
    if not rows:
        return
    table = model.__table__
    by_keys = sorted(rows, key=lambda row: sorted(row))
    for same_keys, members in groupby(by_keys, key=lambda row: sorted(row)):
        group = list(members)
        keys = ["id", *(k for k in same_keys if k != "id")]
        params: dict = {}
        source = _unnest(table, group, keys, params)
        names = [f"c{i}" for i in range(len(keys))]
        sets = ", ".join(f"{_quote(k)} = v.{n}" for k, n in zip(keys[1:], names[1:], strict=True))
        db.session.execute(
            sa.text(
                f"UPDATE {_quote(table.name)} AS t SET {sets} FROM {source} "
                f"AS v({', '.join(names)}) WHERE t.id = v.c0"
            ),
            params,
        )
