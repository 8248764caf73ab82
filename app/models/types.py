"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import overload

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def bound_list(name: str, of) -> sa.BindParameter:
    """A Python list bound as one PostgreSQL array (``col == sa.any_(bound_list(...))``): unlike an expanding ``IN``, the statement's text is the same whatever the list's
    length, so SQLAlchemy does not write it again on every run."""
    return sa.bindparam(name, type_=ARRAY(of))


def one_of(column, values) -> sa.ColumnElement[bool]:
    """``column IN values`` for values fixed in the statement, bound as one array
    (``column = ANY(...)``): the statement holds no expanding ``IN``, so a direct read may run it
    (``app.core.direct_reads``), and PostgreSQL plans it as it plans an ``IN`` list."""
    return column == sa.any_(sa.literal(list(values), ARRAY(column.type)))


@overload
def json_moment(value: str) -> datetime: ...
@overload
def json_moment(value: None) -> None: ...
def json_moment(value: str | None) -> datetime | None:
    """A ``timestamptz`` as PostgreSQL writes it inside JSON (``json_build_array`` and friends),
    as the aware UTC datetime a ``UTCDateTime`` column gives."""
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime: a naive one is refused, any other zone is converted."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum stored as its value, with a named check constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
