"""A transaction begins at the first statement that writes or locks (app/core/transactions.py):
a request that only read sends neither BEGIN nor COMMIT, and PostgreSQL keeps the statements it
has planned for the connection (psycopg forgets them on ROLLBACK); a write, a row lock or an
advisory lock is in a transaction as before, so nothing half-saved is ever committed."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from psycopg.pq import TransactionStatus

from app.core.extensions import db
from app.core.transactions import transaction, write_alone, writing_alone
from app.models import ActivityLog, Role, utcnow
from app.models import Organisation as School
from tests import factories as f
from tests.parents_data import family


def test_the_family_home_asked_again_runs_on_statements_postgresql_has_planned(client, ctx):
    fam = family()
    f.login(client, fam.parent)
    runs: dict[int, int] = {}  # per connection: how often the home's query ran, and
    planned: dict[int, int] = {}  # how many statements like it the server holds planned

    def count_prepared(conn, cursor, statement, parameters, context, executemany):
        if "FROM engagements" in statement:  # the home's engagements query, inside its transaction
            key = id(cursor.connection)
            runs[key] = runs.get(key, 0) + 1
            planned[key] = cursor.connection.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM engagements%'"
            ).fetchone()[0]

    sa.event.listen(db.engine, "after_cursor_execute", count_prepared)
    try:
        for _ in range(40):  # psycopg prepares a statement on its fifth run on a connection
            response = client.get("/family/")
            assert response.status_code == 200
            assert "Numbers all around" in response.get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", count_prepared)
    busy = [key for key, n in runs.items() if n > 5]
    assert busy, "no connection ran the home's query more than five times"
    assert all(planned[key] >= 1 for key in busy), "the home's query was planned again on every request"


def _statuses(run) -> list[tuple[str, TransactionStatus]]:
    """(statement, the connection's transaction status as it ran) for each statement of ``run()``."""
    seen: list[tuple[str, TransactionStatus]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, cursor.connection.info.transaction_status))

    sa.event.listen(db.engine, "after_cursor_execute", note)
    try:
        run()
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", note)
    return seen


def test_the_family_home_runs_no_transaction_to_begin_or_commit(client, ctx):
    fam = family()
    f.login(client, fam.parent)
    client.get("/family/")
    seen = _statuses(lambda: client.get("/family/"))
    assert len(seen) == 1, "the home reads everything with its user loader's statement"
    assert all(status == TransactionStatus.IDLE for _, status in seen), "a read began a transaction"


def test_a_write_after_reads_is_one_transaction_and_a_failure_leaves_nothing(ctx):
    f.school(name="Oak Primary")
    db.session.commit()

    def rename_then_fail():
        with transaction():
            db.session.scalars(sa.select(School)).all()  # a read: no transaction yet
            db.session.execute(sa.update(School).values(name="Elm Primary"))  # BEGIN, then this
            assert db.session.scalars(sa.select(School.name)).all() == ["Elm Primary"]  # its own write
            raise ValueError("refused after the write")

    with pytest.raises(ValueError):
        rename_then_fail()
    assert db.session.scalars(sa.select(School.name)).all() == ["Oak Primary"]

    seen = _statuses(
        lambda: [
            db.session.scalars(sa.select(School)).all(),
            db.session.execute(sa.update(School).values(name="Ash Primary")),
            db.session.scalars(sa.select(School.name)).all(),
        ]
    )
    assert [status for _, status in seen] == [
        TransactionStatus.IDLE,
        TransactionStatus.INTRANS,
        TransactionStatus.INTRANS,
    ]
    db.session.rollback()
    assert db.session.scalars(sa.select(School.name)).all() == ["Oak Primary"], "rolled back, not committed"


def _other_connection(app):
    return psycopg.connect(app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql"))


def test_a_row_lock_and_an_advisory_lock_are_held_until_the_transaction_ends(app, ctx):
    school = f.school(name="Oak Primary")
    db.session.commit()
    db.session.scalars(sa.select(School).where(School.id == school.id).with_for_update()).one()
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("requests:1"))))
    with _other_connection(app) as other:
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("SELECT id FROM organisations WHERE id = %s FOR UPDATE NOWAIT", [school.id])
        other.rollback()
        assert (
            other.execute("SELECT pg_try_advisory_xact_lock(hashtext('requests:1'))").fetchone()[0] is False
        )
        other.rollback()
        db.session.commit()  # both locks end with the transaction
        assert other.execute(
            "SELECT id FROM organisations WHERE id = %s FOR UPDATE NOWAIT", [school.id]
        ).fetchone()
        assert other.execute("SELECT pg_try_advisory_xact_lock(hashtext('requests:1'))").fetchone()[0] is True


def test_a_connection_asked_for_autocommit_is_left_in_autocommit(ctx):
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM organisations"))  # refused inside a transaction


def test_rows_streamed_through_a_server_side_cursor_are_read_in_a_transaction(ctx):
    f.school(name="Oak Primary")
    f.school(name="Elm Primary")
    db.session.commit()
    streamed = db.session.execute(sa.select(School.name).order_by(School.name).execution_options(yield_per=1))
    assert [name for (name,) in streamed] == ["Elm Primary", "Oak Primary"]


def test_a_connection_asked_for_one_snapshot_reads_inside_its_transaction(ctx):
    f.school(name="Oak Primary")
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        assert conn.execute(sa.select(School.name)).scalars().all() == ["Oak Primary"]
        status = conn.connection.dbapi_connection.info.transaction_status
        assert status == TransactionStatus.INTRANS, "the snapshot must outlive the first read"
        level = conn.execute(sa.text("SHOW transaction_isolation")).scalar()
        assert level == "repeatable read"


def test_a_page_that_reads_and_logs_the_access_writes_one_statement_on_its_own(app, client, ctx):
    """The class view reads, then records that it was seen (P15): the INSERT is sent outside a
    transaction, so PostgreSQL commits it at once: no BEGIN, no COMMIT, and another connection
    sees the row as soon as the page is answered."""
    org = f.school()
    cls = f.school_class(org, name="2 Wrens")
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    f.login(client, teacher)
    client.get(f"/teach/classes/{cls.id}")
    seen = _statuses(lambda: client.get(f"/teach/classes/{cls.id}"))
    inserts = [status for statement, status in seen if statement.startswith("INSERT INTO activity_log")]
    assert inserts == [TransactionStatus.IDLE], "the access log's row did not go on its own"
    assert all(status == TransactionStatus.IDLE for _, status in seen), "the page began a transaction"
    with _other_connection(app) as other:
        logged = other.execute(
            "SELECT count(*), min(organisation_id) FROM activity_log WHERE subject = %s AND event = 'view_class'",
            [f"class:{cls.id}"],
        ).fetchone()
    assert logged == (2, org.id)


def test_a_write_alone_joins_a_transaction_already_open_and_commits_it(app, ctx):
    f.school(name="Oak Primary")
    db.session.commit()
    db.session.execute(sa.update(School).values(name="Elm Primary"))  # BEGIN: a transaction open
    seen = _statuses(lambda: write_alone(sa.insert(ActivityLog).values(event="test", subject="joined")))
    assert [status for _, status in seen] == [TransactionStatus.INTRANS]
    with _other_connection(app) as other:  # both committed together
        assert other.execute("SELECT name FROM organisations").fetchone()[0] == "Elm Primary"
        assert other.execute("SELECT count(*) FROM activity_log WHERE subject = 'joined'").fetchone()[0] == 1


def test_a_write_alone_waits_for_what_the_session_has_yet_to_write(app, ctx):
    school = f.school(name="Oak Primary")
    db.session.commit()
    school.name = "Ash Primary"  # changed in the session, not yet sent
    write_alone(sa.insert(ActivityLog).values(event="test", subject="after"))
    with _other_connection(app) as other:
        assert other.execute("SELECT name FROM organisations").fetchone()[0] == "Ash Primary"
        assert other.execute("SELECT count(*) FROM activity_log WHERE subject = 'after'").fetchone()[0] == 1


def test_a_write_alone_that_fails_leaves_nothing_and_the_session_goes_on(app, ctx):
    with pytest.raises(sa.exc.IntegrityError):
        write_alone(sa.insert(ActivityLog).values(event="test", subject="orphan", user_id=987654321))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityLog)) == 0
    write_alone(sa.insert(ActivityLog).values(event="test", subject="next"))
    assert db.session.scalars(sa.select(ActivityLog.subject)).all() == ["next"]


def test_a_write_alone_with_values_is_sent_by_psycopg_and_gets_its_defaults(app, ctx):
    """``write_alone(insert, values)`` compiles the INSERT once and sends it itself: the columns
    left out get their Python defaults (the time), the cursor listeners see it outside a
    transaction, and another connection sees the row at once."""
    before = utcnow()
    values = {"event": "test", "subject": "direct", "user_id": None, "ip": "10.0.0.1"}
    seen = _statuses(lambda: write_alone(sa.insert(ActivityLog), values))
    assert [status for _, status in seen] == [TransactionStatus.IDLE]
    assert "$1" in seen[0][0], "not sent by psycopg with PostgreSQL's own placeholders"
    with _other_connection(app) as other:
        row = other.execute(
            "SELECT event, subject, ip, at FROM activity_log WHERE subject = 'direct'"
        ).fetchone()
    assert row[:3] == ("test", "direct", "10.0.0.1")
    assert before <= row[3] <= utcnow()


def test_a_write_alone_with_values_that_fails_raises_as_sqlalchemy_does_and_leaves_nothing(app, ctx):
    orphan = {"event": "test", "subject": "orphan", "user_id": 987654321}
    with pytest.raises(sa.exc.IntegrityError):
        write_alone(sa.insert(ActivityLog), orphan)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityLog)) == 0
    write_alone(sa.insert(ActivityLog), orphan | {"user_id": None, "subject": "next"})
    assert db.session.scalars(sa.select(ActivityLog.subject)).all() == ["next"]


def _driver():
    return db.session.connection().connection.dbapi_connection


def test_a_write_sent_alone_lets_the_block_run_while_postgresql_writes_and_ends_once_committed(app, ctx):
    """``writing_alone`` (the access log while a page renders): the INSERT is on its way when the
    block starts (the connection is busy with it: sent, its answer not yet read), and when the
    block ends the row is committed and another connection sees it."""
    values = {"event": "test", "subject": "meanwhile", "user_id": None, "ip": "10.0.0.1"}
    with writing_alone(sa.insert(ActivityLog), values):
        assert _driver().info.transaction_status == TransactionStatus.ACTIVE, "waited before the block"
    assert _driver().info.transaction_status == TransactionStatus.IDLE
    with _other_connection(app) as other:
        assert (
            other.execute("SELECT count(*) FROM activity_log WHERE subject = 'meanwhile'").fetchone()[0] == 1
        )


def test_a_statement_run_while_a_write_is_on_its_way_waits_for_it_first(app, ctx):
    values = {"event": "test", "subject": "first", "user_id": None}
    with writing_alone(sa.insert(ActivityLog), values):
        subjects = db.session.scalars(sa.select(ActivityLog.subject)).all()  # a read in the block
        f.school(name="Oak Primary")  # and a write: a transaction of its own
        db.session.commit()
    assert subjects == ["first"]
    assert db.session.scalars(sa.select(School.name)).all() == ["Oak Primary"]


def test_a_write_sent_alone_that_fails_is_raised_after_the_block_as_sqlalchemy_raises_it(app, ctx):
    orphan = {"event": "test", "subject": "orphan", "user_id": 987654321}
    ran = []
    with pytest.raises(sa.exc.IntegrityError):
        with writing_alone(sa.insert(ActivityLog), orphan):
            ran.append("the block")
    assert ran == ["the block"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityLog)) == 0
    with writing_alone(sa.insert(ActivityLog), orphan | {"user_id": None, "subject": "next"}):
        pass
    assert db.session.scalars(sa.select(ActivityLog.subject)).all() == ["next"]


def test_a_write_alone_in_a_block_joins_a_transaction_already_open(app, ctx):
    school = f.school(name="Oak Primary")
    db.session.commit()
    school.name = "Ash Primary"  # changed in the session, not yet sent
    with writing_alone(sa.insert(ActivityLog), {"event": "test", "subject": "joined"}):
        assert _driver().info.transaction_status == TransactionStatus.IDLE, "written before the block"
    with _other_connection(app) as other:
        assert other.execute("SELECT name FROM organisations").fetchone()[0] == "Ash Primary"
        assert other.execute("SELECT count(*) FROM activity_log WHERE subject = 'joined'").fetchone()[0] == 1


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_transaction_ended_while_a_write_is_on_its_way_waits_for_it_first(app, ctx, end):
    """Nothing else sent in the block, the session's commit or rollback (its connection's
    ``COMMIT``/``ROLLBACK``, or the pool's reset) reads the write's answer before it goes on."""
    with writing_alone(sa.insert(ActivityLog), {"event": "test", "subject": "ended", "user_id": None}):
        getattr(db.session, end)()
        db.session.close()  # the connection goes back to the pool, which resets it
    with _other_connection(app) as other:
        assert other.execute("SELECT count(*) FROM activity_log WHERE subject = 'ended'").fetchone()[0] == 1
    assert db.session.scalars(sa.select(ActivityLog.subject)).all() == ["ended"]
