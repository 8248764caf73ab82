"""A request that only read ends its transaction with COMMIT, so PostgreSQL keeps the statements
it has planned for the connection (psycopg forgets them on ROLLBACK); a request that wrote and did
not commit, or that failed, is still rolled back: nothing half-saved is ever committed this way."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import enqueue_after_commit
from app.core.transactions import only_read
from app.models import Organisation as School
from app.models import User
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


def test_a_transaction_that_wrote_or_has_work_waiting_is_never_ended_as_a_read(ctx):
    f.school(name="Oak Primary")
    db.session.commit()

    db.session.scalars(sa.select(School)).all()
    assert only_read(db.session()), "a transaction of SELECTs ends the same either way"
    db.session.rollback()

    db.session.scalars(sa.select(School)).all()
    db.session.execute(sa.update(School).values(name="Elm Primary"))  # a write, no ORM objects
    assert not only_read(db.session())
    db.session.rollback()

    db.session.scalars(sa.select(School)).all()
    db.session.add(User(name="Pending", email="pending@example.org"))  # added, not flushed
    assert not only_read(db.session())
    db.session.rollback()

    db.session.scalars(sa.select(School)).all()
    school = db.session.scalars(sa.select(School)).one()
    school.name = "Changed in memory"  # dirty, not flushed
    assert not only_read(db.session())
    db.session.rollback()

    db.session.scalars(sa.select(School)).all()
    enqueue_after_commit("app.messaging.jobs.send_deliveries", [1])  # a job that would be queued by a commit
    assert not only_read(db.session())
    db.session.rollback()

    assert db.session.scalars(sa.select(School.name)).all() == ["Oak Primary"]
    assert db.session.scalars(sa.select(User).where(User.email == "pending@example.org")).first() is None
