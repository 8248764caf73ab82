"""A SELECT that runs on every request, compiled once per process and run by psycopg itself.

The user loader's one statement is the only SQL of a family's home, and SQLAlchemy's path for it
(the compiled-cache lookup, the execution context, the result's metadata, the ORM's loading) ran
more than twice the instructions psycopg needs to run it and read its row. ``DirectRead`` keeps
what matters of that path and drops the rest:

- the statement is compiled by the session's own dialect, once per process, and its text turned to
  PostgreSQL's ``$1`` placeholders once (psycopg converts a statement's placeholders on every run
  and remembers conversions only for statements under 4 KB; the loader's is 7 KB);
- it runs on the connection the session lends reads (``extensions.Session.reading_connection``:
  the session's transaction's once it has begun one, so a read sees what it wrote), with the engine's
  ``before_cursor_execute`` and ``after_cursor_execute`` listeners called as SQLAlchemy calls them
  (a read outside a transaction, statement counts in tests), logged when the engine logs
  statements (its values are not: they hold the sign-in's secret hash), and psycopg prepares it
  on its fifth run as any other;
- values are bound and read with the same type processors SQLAlchemy uses; a mapped class asked
  for is built as the ORM's loading builds it from a row and put in the session's identity map
  as that does (through ``make_transient_to_detached`` and ``Session.add`` instead when the class
  or the session has loading events to run), or the object the session already holds is used,
  as the ORM does, its columns read from the row where a commit or rollback had expired them;
- any error from the database is raised as SQLAlchemy raises it: the statement is run again
  through SQLAlchemy, which invalidates a broken connection and wraps the error (a read changes
  nothing, so running it again is safe).

Only for statements that read: no ``FOR UPDATE``, no writes (``transactions.plain_read``), no
expanding ``IN`` (bind a list as one array: ``bound_list``, or ``one_of`` for fixed values) and
no loader options (select the related class as well and set it with ``loaded``).
A class's deferred columns are left unloaded, as the ORM leaves them. Used for the user loader's
statement, a class and a pupil looked up by staff (``authz``), a teacher's classes
(``learning.scope.my_classes``), a topic with its classes and activities (``learning.scope``),
the lists of topics, the library's search (``learning.activities.search``), the class grid
(``learning.classroom``), the retention page's preview, schools' periods, deleted files and
recent runs (``dataprotection.retention.rules``), the families and people lists, the privacy
desk's schools, a family's new request, requests, copies, past weeks, awards and engagements, an
activity and a topic's item, the office's staff, notices, report and failed messages, the
outbox, the office's start page (its classes' counts), the breach log and the erasure preview.
``DirectWrite`` does the same for one INSERT sent on its own (the access log:
``transactions.write_alone``), its Python defaults filled as SQLAlchemy fills them (the
compiled statement's ``insert_prefetch``); ``DirectWrite.send`` sends it without waiting for
the answer, read later by ``Sent.confirm`` (``transactions.writing_alone``: the page renders
while PostgreSQL writes the row), converting the values as psycopg's ``RawCursor`` does
(its ``_query_cls`` and ``adapt.Transformer``; psycopg is pinned at 3.3.9).

A list of many rows is best read as columns: building a mapped object and adding it to the
session costs more per row than SQLAlchemy's own loading (the office's list of parents took
more instructions as objects read directly than through the ORM, and a third of them as rows).

It leans on things of SQLAlchemy's that are not its documented API (SQLAlchemy is pinned at
2.1.9): the types' ``_cached_bind_processor`` and ``_cached_result_processor``, a statement's
``_with_options``, a compiled INSERT's ``insert_prefetch``, a ``Connection``'s ``dispatch``
joined to its engine's, and what the ORM's loading sets on a new object
(``InstanceState.key``, ``session_id``, the identity map's ``_add_unpresent``, the mapper's
``_identity_class``).
``tests/core/test_direct_reads.py`` compares every kind of column and object with SQLAlchemy's
own reading, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

import psycopg
import sqlalchemy as sa
from psycopg import adapt, generators, pq
from psycopg.pq import TransactionStatus
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, instance_state, set_committed_value

from app.core.extensions import Session, db
from app.core.transactions import UNCONFIRMED, plain_read

log = logging.getLogger(__name__)
_NAMED = re.compile(r"%\((\w+)\)s|%%")


def _numbered(sql: str) -> tuple[str, list[str]]:
    """``sql`` in psycopg's ``%(name)s`` style as PostgreSQL's own ``$1``, and the names in order
    (a name used twice is one number)."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), names


class _Entity:
    """A mapped class in the statement's columns: its column attributes' slice of the row."""

    def __init__(self, mapper: Mapper, start: int):
        if len(mapper.primary_key) != 1 or mapper.inherits or mapper.polymorphic_on is not None:
            raise ValueError(f"DirectRead builds only plain classes with one key column, not {mapper}")
        self.mapper = mapper
        self.attrs = [attr for attr in mapper.column_attrs if not attr.deferred]  # as the ORM loads
        self.keys = [attr.key for attr in self.attrs]
        self.key_set = frozenset(self.keys)
        self.identity_class = mapper._identity_class
        # no "load" listeners on the class: built as the ORM's loading builds what it reads
        self.plain = not mapper.class_manager.dispatch.load
        self.start, self.end = start, start + len(self.keys)
        self.primary = self.keys.index(mapper.get_property_by_column(mapper.primary_key[0]).key)

    def build(self, values: Sequence, session) -> Any:
        part = values[self.start : self.end]
        if part[self.primary] is None:
            return None  # an outer join found nothing
        key = (self.identity_class, (part[self.primary],), None)  # as the mapper's own keys
        existing = session.identity_map.get(key)
        if existing is not None:  # as the ORM does without populate_existing: the session's object,
            if not instance_dict(existing).keys() >= self.key_set:  # its expired columns from this row
                for attr_key, value in zip(self.keys, part, strict=True):
                    loaded(existing, attr_key, value)
            return existing
        instance = self.mapper.class_manager.new_instance()
        state = instance_state(instance)
        state.dict.update(zip(self.keys, part, strict=True))
        if self.plain and not session.dispatch.loaded_as_persistent:  # as the ORM's loading adds
            # what it read: keyed, and in the identity map (no events to run)
            state.key, state.identity_token, state.session_id = key, None, session.hash_key
            session.identity_map._add_unpresent(state, key)
        else:  # a class or session with loading events: the public way, which runs them
            make_transient_to_detached(instance)
            session.add(instance)
        return instance


def loaded(instance: Any, key: str, value: Any) -> None:
    """Set ``instance``'s attribute ``key`` as loaded from the database (a related object or a
    collection read alongside it, an expired column), unless it is loaded already: as the ORM's
    loading leaves what the session's object already holds (without ``populate_existing``)."""
    if key not in instance_dict(instance):
        set_committed_value(instance, key, value)


class _Compiled(NamedTuple):
    """A ``DirectRead``'s statement as one dialect writes it."""

    text: str  # with PostgreSQL's $1 placeholders
    binds: list[tuple[str, Callable[[Any], Any] | None]]  # each placeholder's name and processor
    fixed: dict[str, Any]  # the values bound in the statement itself
    results: list[tuple[int, Callable[[Any], Any]]]  # the columns read through a processor


class DirectRead:
    """``statement`` (a SELECT of mapped classes and columns) to be run with ``run(params)``: a
    list of rows, each a tuple with one item per thing selected, as
    ``session.execute(statement, params).all()`` gives. It is compiled on its first run, for the
    session's dialect."""

    def __init__(self, statement: sa.Select):
        if statement._with_options:  # joinedload, defer...: the ORM's to apply, not this
            raise ValueError("DirectRead applies no loader options: select the related class too")
        columns: list[sa.ColumnElement] = []
        self._shape: list[_Entity | int] = []  # per thing selected: an entity, or its column's index
        for described in statement.column_descriptions:
            entity, expr = described.get("entity"), described["expr"]
            if entity is not None and expr is entity:
                built = _Entity(sa.inspect(entity), len(columns))
                self._shape.append(built)
                columns += [attr.columns[0] for attr in built.attrs]
            else:
                self._shape.append(len(columns))
                columns.append(expr)
        self._columns = columns
        self._statement = statement
        self._compiled: dict[sa.engine.Dialect, _Compiled] = {}

    def _compile(self, dialect: sa.engine.Dialect) -> _Compiled:
        compiled = self._statement.with_only_columns(*self._columns).compile(dialect=dialect)
        if not plain_read(compiled.string) or "POSTCOMPILE" in compiled.string:
            raise ValueError("DirectRead runs only reads, without expanding (IN) parameters")
        text, names = _numbered(compiled.string)
        binds = {name: compiled.binds[name] for name in names}
        self._compiled[dialect] = found = _Compiled(
            text,
            [(name, bind.type._cached_bind_processor(dialect)) for name, bind in binds.items()],
            {name: bind.effective_value for name, bind in binds.items()},
            [
                (i, process)
                for i, column in enumerate(self._columns)
                if (process := column.type._cached_result_processor(dialect, None)) is not None
            ],
        )
        return found

    @staticmethod
    def _values(compiled: _Compiled, params: dict) -> list:
        values = []
        for name, process in compiled.binds:
            value = params[name] if name in params else compiled.fixed[name]
            values.append(process(value) if process is not None else value)
        return values

    def run(self, params: dict) -> list[tuple]:
        session = cast(Session, db.session())
        conn = session.reading_connection()
        compiled = self._compiled.get(conn.dialect) or self._compile(conn.dialect)
        try:
            fetched = _execute(conn, compiled.text, self._values(compiled, params), None)
        except psycopg.Error as error:
            if not session.in_transaction():  # the connection held for reads: drop it
                session.give_back_reading(broken=True)
            # SQLAlchemy's own path raises it as for any statement (and drops a broken connection);
            # should it succeed, the warning shows that the direct read is failing where it should not
            log.warning("direct read failed (%s); running it through SQLAlchemy", type(error).__name__)
            return [tuple(row) for row in session.execute(self._statement, params).all()]
        rows = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for i, process in compiled.results:
                row[i] = process(row[i])
            rows.append(
                tuple(
                    part.build(row, session) if isinstance(part, _Entity) else row[part]
                    for part in self._shape
                )
            )
        return rows

    def scalars(self, params: dict) -> list:
        """The first thing selected of each row of ``run(params)``, as ``session.scalars`` gives."""
        return [row[0] for row in self.run(params)]


def _execute(
    conn: sa.Connection, text: str, values: list, context: Any, *, fetch: bool = True
) -> list[tuple]:
    """Run ``text`` (PostgreSQL's ``$1`` placeholders) with ``values`` by psycopg on ``conn``'s
    own driver connection, the engine's cursor listeners called as SQLAlchemy calls them (with
    ``context`` for the execution context), and return its rows (none unless ``fetch``: asking
    psycopg whether a statement gave rows builds a description of every column)."""
    cursor, text, args = _cursor(conn, text, values, context, "direct")
    cursor.execute(text, args)
    conn.dispatch.after_cursor_execute(conn, cursor, text, args, context, False)
    fetched = cursor.fetchall() if fetch else []
    cursor.close()
    return fetched


def _cursor(conn: sa.Connection, text: str, values: list, context: Any, how: str) -> tuple:
    """A psycopg cursor on ``conn``'s driver connection, with ``text`` and ``values`` as the
    engine's ``before_cursor_execute`` listeners leave them (called as SQLAlchemy calls them),
    logged when the engine logs statements (``how`` said; values never shown)."""
    cursor: psycopg.RawCursor = psycopg.RawCursor(cast(psycopg.Connection, conn.connection.dbapi_connection))
    args: Any = values
    for listen in conn.dispatch.before_cursor_execute:  # the engine's too (joined)
        text, args = listen(conn, cursor, text, args, context, False)
    if conn.engine.logger.isEnabledFor(logging.INFO):  # echo=True, or the engine's log at INFO
        conn.engine.logger.info("%s [%s; values not shown]", text, how)
    return cursor, text, args


class _Options(NamedTuple):
    """What a cursor listener reads of an execution context: its execution options."""

    execution_options: dict


class DirectWrite:
    """One INSERT (``statement``, its columns named by the values given) compiled once per set of
    values' names and run by psycopg, as ``DirectRead`` runs a read: for a write sent on its own
    (``transactions.write_alone``). Columns left out that have a default computed in Python
    (``default=utcnow``) get it, as SQLAlchemy gives it; ``execution_options`` reach the cursor
    listeners as a context's would. A database error is raised as SQLAlchemy raises it, by
    running the statement again through SQLAlchemy (sent on its own, the failed write changed
    nothing, so running it again is safe)."""

    def __init__(self, statement: sa.Insert):
        self._statement = statement
        self._compiled: dict[tuple, tuple[str, list, list]] = {}

    def _compile(self, dialect: sa.engine.Dialect, keys: tuple[str, ...]) -> tuple[str, list, list]:
        compiled = self._statement.compile(dialect=dialect, column_keys=list(keys))
        text, names = _numbered(compiled.string)
        defaults = []
        for column in compiled.insert_prefetch:
            default = column.default
            if default is None or not (default.is_scalar or default.is_callable):
                raise ValueError(f"DirectWrite computes only plain defaults, not {column}'s")
            defaults.append((column.key, default))
        binds = [(name, compiled.binds[name].type._cached_bind_processor(dialect)) for name in names]
        self._compiled[(dialect, keys)] = found = (text, binds, defaults)
        return found

    def _values(self, conn: sa.Connection, params: dict) -> tuple[str, list]:
        keys = tuple(params)
        text, binds, defaults = self._compiled.get((conn.dialect, keys)) or self._compile(conn.dialect, keys)
        given = dict(params)
        for key, default in defaults:
            given[key] = default.arg(None) if default.is_callable else default.arg
        return text, [process(given[name]) if process is not None else given[name] for name, process in binds]

    def run(self, conn: sa.Connection, params: dict, execution_options: dict) -> None:
        text, values = self._values(conn, params)
        try:
            _execute(conn, text, values, _Options(execution_options), fetch=False)
        except psycopg.Error as error:
            self.through_sqlalchemy(conn, params, execution_options, type(error).__name__)

    def through_sqlalchemy(
        self, conn: sa.Connection, params: dict, execution_options: dict, why: str
    ) -> None:
        """The write run by SQLAlchemy after the direct way failed (``why``): it raises the error
        as it raises any (sent on its own, the failed write changed nothing), or writes the row."""
        log.warning("direct write failed (%s); running it through SQLAlchemy", why)
        conn.execute(self._statement, params, execution_options=execution_options)

    def send(self, conn: sa.Connection, params: dict, execution_options: dict) -> Sent:
        """Send the INSERT, outside any transaction, and return without waiting for PostgreSQL's
        answer: ``Sent.confirm()`` waits for it, and raises as ``run`` would. Meanwhile the
        request goes on (a page renders while PostgreSQL writes the row and waits for the disk);
        any other statement on the connection first waits for the answer
        (``transactions.confirm_sent``).
        Sent with psycopg's own conversion of the values, as ``cursor.execute`` sends them, but
        by libpq's ``PQsendQueryParams`` without reading the result."""
        text, values = self._values(conn, params)
        context = _Options(execution_options)
        cursor, text, args = _cursor(conn, text, values, context, "direct, confirmed later")
        raw = cursor.connection
        if not raw.autocommit or raw.info.transaction_status != TransactionStatus.IDLE:
            cursor.close()
            raise RuntimeError("DirectWrite.send sends only a write on its own, outside a transaction")
        try:
            query = cursor._query_cls(adapt.Transformer(cursor))  # as cursor.execute converts
            query.convert(text, args)
            raw.pgconn.send_query_params(
                query.query, query.params, param_formats=query.formats, param_types=query.types
            )
            raw.wait(generators.send(raw.pgconn))
        except psycopg.Error as error:  # not sent: written now, through SQLAlchemy, or raised
            cursor.close()
            self.through_sqlalchemy(conn, params, execution_options, type(error).__name__)
            return Sent(self, conn, params, execution_options)
        sent = Sent(self, conn, params, execution_options, raw, (cursor, text, args, context))
        setattr(raw, UNCONFIRMED, sent)
        return sent


_ANSWERED = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)  # written (a RETURNING gives rows)


class Sent:
    """A write ``DirectWrite.send`` sent and whose answer is still to be read."""

    __slots__ = ("_write", "_conn", "_params", "_options", "_raw", "_ran")

    def __init__(
        self,
        write: DirectWrite,
        conn: sa.Connection,
        params: dict,
        options: dict,
        raw: psycopg.Connection | None = None,  # None: written already
        ran: tuple = (),  # the cursor, text, values and context, for after_cursor_execute
    ):
        self._write, self._conn, self._params, self._options = write, conn, params, options
        self._raw, self._ran = raw, ran

    def confirm(self) -> None:
        """Wait for PostgreSQL's answer (once: later calls return at once). A database error is
        raised as SQLAlchemy raises it, by running the statement again through SQLAlchemy (sent on
        its own, the failed write changed nothing)."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        if raw.__dict__.get(UNCONFIRMED) is self:
            del raw.__dict__[UNCONFIRMED]
        try:
            results = raw.wait(generators.fetch_many(raw.pgconn))
        except psycopg.Error:  # the connection failed: SQLAlchemy raises it (and drops it)
            results = []
        cursor, text, args, context = self._ran
        cursor.close()
        if results and all(result.status in _ANSWERED for result in results):
            self._conn.dispatch.after_cursor_execute(self._conn, cursor, text, args, context, False)
            return
        self._write.through_sqlalchemy(self._conn, self._params, self._options, _failure(results))


def _failure(results: list) -> str:
    for result in results:
        if result.status not in _ANSWERED:
            state = result.error_field(pq.DiagnosticField.SQLSTATE)
            return state.decode() if state else pq.ExecStatus(result.status).name
    return "no answer"
