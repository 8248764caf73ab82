"""Extensions, created unbound here and bound to the app in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

import orjson
import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The typed declarative base every model subclasses (``class Pupil(Base)``).

    ``SQLAlchemy(model_class=Base)`` builds ``db.Model`` from it with the same metadata and registry, so
    ``db.session``, ``db.metadata`` and migrations see every model; subclassing ``Base`` itself is what lets
    a type checker follow the mapped columns.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model maps one Table (none maps a join or a select), so say so to the type checker.
        __table__: ClassVar[sa.Table]

    def __repr__(self) -> str:
        # Flask-SQLAlchemy's db.Model names the row by its class and primary key; keep that in logs.
        state = sa.inspect(self)
        if state.transient or state.pending:
            return f"<{type(self).__name__} ({'transient' if state.transient else 'pending'} {id(self)})>"
        return f"<{type(self).__name__} {', '.join(map(str, state.identity or ()))}>"


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, which lends plain reads a connection while it has no
    transaction (``reading_connection``).

    The reads the app runs itself (``direct_reads``: the user loader's one statement, on every
    page) need a connection and nothing more: PostgreSQL runs a plain read outside a transaction
    (``transactions``). Asking the session for its connection began the session's transaction
    book-keeping (a session transaction, a connection transaction, their closing and a rollback
    at the end of every request), a twelfth of a family home's Python. A connection taken from the
    pool for those reads is given back when the session closes (the end of the request), is
    reset, or begins a transaction: from then on reads use the transaction's own connection, so
    they see what it has written."""

    _reading: sa.Connection | None = None

    def reading_connection(self) -> sa.Connection:
        """The connection a plain read runs on: the transaction's, once one has begun; else
        one held for this session's reads until it closes or begins a transaction."""
        if self._transaction is not None:
            return self.connection()
        conn = self._reading
        if conn is None or conn.closed or conn.invalidated:
            conn = self._reading = cast(sa.Engine, self.get_bind()).connect()
        return conn

    def give_back_reading(self, *, broken: bool = False) -> None:
        """Return the connection held for reads to the pool (``broken``: discard it)."""
        conn, self._reading = self._reading, None
        if conn is not None:
            if broken:
                conn.invalidate()
            conn.close()

    def close(self) -> None:
        self.give_back_reading()
        super().close()

    def reset(self) -> None:
        self.give_back_reading()
        super().reset()

    def invalidate(self) -> None:
        self.give_back_reading(broken=True)
        super().invalidate()


@sa.event.listens_for(Session, "after_transaction_create")
def _transaction_begins(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint
        session.give_back_reading()


# JSON columns (the user loader's statement reads the family home as JSON) are parsed by orjson,
# in a tenth of the standard library's time; the values are the same Python objects.
db = SQLAlchemy(
    model_class=Base,
    session_options={"class_": Session},
    engine_options={"json_deserializer": orjson.loads},
)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
