"""The user loader's statement runs on psycopg directly (app/core/direct_reads.py): what it reads
must be what SQLAlchemy would have read, its objects must belong to the session as if the ORM had
loaded them, and an error must come out as SQLAlchemy's."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core.direct_reads import DirectRead, loaded
from app.core.extensions import db
from app.models import Organisation, Role, StaffMembership, User, UserStatus
from tests import factories as f
from tests.queries import statements


def _statement() -> sa.Select:
    """Entities (one outer-joined, so sometimes missing), enums and times to convert, a JSON
    column, a bound constant, a ``%`` in the SQL and a value bound at run time."""
    return (
        sa.select(
            User,
            StaffMembership.role,
            Organisation,
            User.created_at,
            sa.func.json_build_array(User.kind, User.name).label("shown"),
            (User.id % 7).label("rest"),
        )
        .outerjoin(StaffMembership, StaffMembership.user_id == User.id)
        .outerjoin(Organisation, Organisation.id == StaffMembership.organisation_id)
        .where(User.id == sa.bindparam("who", type_=sa.Integer), User.status == UserStatus.ACTIVE)
        .order_by(StaffMembership.id)
    )


def _plain(row) -> tuple:
    """A row with every mapped object as its columns' values."""
    return tuple(
        {a.key: getattr(item, a.key) for a in sa.inspect(type(item)).column_attrs}
        if hasattr(item, "_sa_instance_state")
        else item
        for item in row
    )


def test_a_direct_read_gives_the_rows_and_objects_sqlalchemy_gives(ctx):
    school = f.school()
    people = f.staff(school, Role.TEACHER).id, f.parent(name="Ada Parent").id
    read = DirectRead(_statement())
    for who in people:
        db.session.expunge_all()
        direct = [_plain(row) for row in read.run({"who": who})]
        db.session.expunge_all()
        orm = [_plain(row) for row in db.session.execute(_statement(), {"who": who}).all()]
        assert direct == orm
        assert direct and direct[0][0]["id"] == who
    assert direct[0][2] is None, "a parent has no membership: the outer-joined school is None"
    assert direct[0][1] is None
    assert direct[0][3].utcoffset() is not None, "times are read as the app's (UTC, aware)"
    assert direct[0][4] == ["parent", "Ada Parent"]


def test_scalars_gives_what_the_sessions_scalars_gives(ctx):
    school = f.school()
    teachers = sorted(f.staff(school, Role.TEACHER).id for _ in range(3))
    statement = (
        sa.select(User)
        .join(StaffMembership, StaffMembership.user_id == User.id)
        .where(StaffMembership.organisation_id == sa.bindparam("school", type_=sa.Integer))
        .order_by(User.id)
    )
    direct = DirectRead(statement).scalars({"school": school.id})
    assert [user.id for user in direct] == teachers
    assert direct == db.session.scalars(statement, {"school": school.id}).all()  # the same objects


def test_the_objects_read_belong_to_the_session_as_loaded_ones(ctx):
    school = f.school(name="Oak Primary")
    teacher_id = f.staff(school, Role.TEACHER).id
    db.session.expunge_all()
    ((user, role, found_school, *_),) = DirectRead(_statement()).run({"who": teacher_id})
    assert role is Role.TEACHER and found_school.name == "Oak Primary"
    assert db.session.get(User, teacher_id) is user, "the session's own object"
    state = sa.inspect(user)
    assert state.persistent and state.key == sa.orm.util.identity_key(User, teacher_id)
    assert state.session is db.session() and not state.modified
    assert not db.session.dirty and not db.session.new
    assert [m.role for m in user.memberships] == [Role.TEACHER]  # relationships load as usual
    user.name = "Renamed by the test"
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(User, teacher_id).name == "Renamed by the test"

    # an object the session already holds is the one given back, as the ORM does
    held = db.session.get(User, teacher_id)
    ((again, *_),) = DirectRead(_statement()).run({"who": teacher_id})
    assert again is held


def test_an_object_the_session_holds_expired_is_read_again_from_the_row(ctx):
    """After a commit the session's objects are expired: the row refreshes them, as the ORM's
    loading does, instead of a second query on the first attribute read."""
    school = f.school(name="Oak Primary")
    teacher_id = f.staff(school, Role.TEACHER).id
    held = db.session.get(User, teacher_id)
    db.session.execute(sa.update(User).where(User.id == teacher_id).values(name="Changed elsewhere"))
    db.session.commit()  # expires ``held``
    with statements() as seen:
        ((again, *_),) = DirectRead(_statement()).run({"who": teacher_id})
        assert again is held
        assert held.name == "Changed elsewhere"
    assert len(seen) == 1, "the read's own statement, and no refresh"
    assert not db.session.dirty


def test_loaded_sets_what_is_not_loaded_and_keeps_what_is(ctx):
    school = f.school(name="Oak Primary")
    teacher_id = f.staff(school, Role.TEACHER).id
    db.session.expunge_all()
    ((user, _role, found_school, *_),) = DirectRead(_statement()).run({"who": teacher_id})
    loaded(user, "memberships", [])
    with statements() as seen:
        assert user.memberships == []  # set as loaded: no query, and nothing to save
    assert seen == [] and not db.session.dirty
    loaded(user, "memberships", ["not used"])
    assert user.memberships == [], "an attribute already loaded is kept"
    user.name = "Being edited"
    loaded(user, "name", "From a row")
    assert user.name == "Being edited", "a change not yet saved is kept"
    assert found_school.name == "Oak Primary"


def test_the_engines_listeners_see_the_statement(ctx):
    parent_id = f.parent().id
    read = DirectRead(_statement())
    with statements() as seen:
        read.run({"who": parent_id})
    assert len(seen) == 1 and "FROM users" in seen[0]


def test_a_database_error_is_raised_as_sqlalchemy_raises_it(ctx, caplog):
    read = DirectRead(sa.select(sa.cast(sa.bindparam("n", type_=sa.String), sa.Integer)))
    assert read.run({"n": "7"}) == [(7,)]
    with pytest.raises(sa.exc.DataError):
        read.run({"n": "seven"})
    assert "direct read failed (InvalidTextRepresentation)" in caplog.text
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.literal(1))) == 1


@pytest.mark.parametrize(
    "statement",
    [
        sa.select(User).where(User.id == 1).with_for_update(),
        sa.select(User).where(User.id.in_([1, 2])),
        sa.select(User).options(joinedload(User.memberships)),
    ],
    ids=["locks rows", "expanding IN", "loader options"],
)
def test_only_plain_reads_may_run_directly(ctx, statement):
    with pytest.raises(ValueError):
        DirectRead(statement).run({})


def test_the_statement_is_logged_when_the_engine_logs_statements_but_not_its_values(ctx, caplog):
    parent_id = f.parent().id
    read = DirectRead(_statement())
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"):
        read.run({"who": parent_id})
    logged = [r.getMessage() for r in caplog.records if "FROM users" in r.getMessage()]
    assert len(logged) == 1 and "values not shown" in logged[0]


def test_a_read_in_a_transaction_sees_what_it_has_written_and_no_one_else_does(ctx):
    """Outside a transaction a read runs on a connection of its own; once the session has begun
    one, on the transaction's, so it sees what the transaction wrote and not yet committed."""
    parent = f.parent(name="Ada Obi")
    read = DirectRead(sa.select(User.name).where(User.id == sa.bindparam("who", type_=sa.Integer)))
    assert read.run({"who": parent.id}) == [("Ada Obi",)]
    parent.name = "Ada Okafor"
    db.session.flush()  # written in the transaction, not committed
    assert read.run({"who": parent.id}) == [("Ada Okafor",)]
    with db.engine.connect() as other:
        assert other.scalar(sa.select(User.name).where(User.id == parent.id)) == "Ada Obi"
    db.session.rollback()
    assert read.run({"who": parent.id}) == [("Ada Obi",)]


def test_pages_give_back_the_connection_they_read_on(app):
    """A page that only reads holds a connection for its reads until the request ends: then it
    goes back to the pool, so pages one after another never run the pool dry."""
    with app.app_context():
        parent = f.parent()
        parent_id = parent.id
    client = app.test_client()  # each request in an application context of its own
    with app.app_context():
        f.login(client, db.session.get(User, parent_id))
    for _ in range(20):
        assert client.get("/family/").status_code == 200
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
