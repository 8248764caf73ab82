"""Extensions, created unbound here and bound to the app in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
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


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
