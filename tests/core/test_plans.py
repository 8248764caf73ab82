"""PostgreSQL plans each prepared statement once, and a statement that binds a long list for the
list it is given (app/core/plans.py), whether a transaction is open, ends or is rolled back."""

from __future__ import annotations

import sqlalchemy as sa

from app.core import plans
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.transactions import writing_alone
from app.models import ActivityLog, utcnow
from app.models import Organisation as School
from app.models.types import bound_list
from tests import factories as f

MODE = "SELECT current_setting('plan_cache_mode') WHERE 1 = ANY(:ids)"
SHORT = {"ids": [1, 2]}
LONG = {"ids": list(range(1, plans.LONG + 2))}


def _mode(params: dict) -> str:
    return db.session.execute(sa.text(MODE), params).scalar_one()


def test_a_read_that_binds_a_users_schools_is_planned_once_however_often_it_runs(ctx):
    oak, elm = f.school(name="Oak Primary"), f.school(name="Elm Primary")
    db.session.commit()
    read = DirectRead(sa.select(School.name).where(School.id == sa.any_(bound_list("schools", sa.Integer))))
    for _ in range(12):  # psycopg prepares a statement on its fifth run on a connection
        assert read.scalars({"schools": [oak.id]}) == ["Oak Primary"]
    assert read.scalars({"schools": [elm.id]}) == ["Elm Primary"], "the plan made once serves any school"
    generic, custom = db.session.execute(
        sa.text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'SELECT organisations.name%FROM organisations%= ANY%'"
        )
    ).one()
    assert generic >= 1, "never run as a prepared statement"
    assert custom == 0, "planned again for its values (PostgreSQL takes a list for ten)"


def test_a_long_list_is_planned_for_its_values_and_the_next_statement_once_again(ctx):
    assert _mode(SHORT) == "force_generic_plan"
    assert _mode(LONG) == "auto"
    assert _mode(SHORT) == "force_generic_plan"
    many = {f"v{i}": i for i in range(plans.LONG + 1)}  # as many values as an expanding IN gives
    text = "SELECT current_setting('plan_cache_mode') WHERE 1 IN (" + ", ".join(f":{k}" for k in many) + ")"
    assert db.session.execute(sa.text(text), many).scalar_one() == "auto"
    read = DirectRead(
        sa.select(sa.func.current_setting("plan_cache_mode")).where(
            sa.literal(1) == sa.any_(bound_list("ids", sa.Integer))
        )
    )
    assert read.scalars(LONG) == ["auto"], "a direct read binding a long list too"
    assert read.scalars(SHORT) == ["force_generic_plan"]


def test_inside_a_transaction_a_long_list_keeps_planning_for_values_until_it_ends(ctx):
    f.school(name="Oak Primary")
    db.session.commit()
    rename = sa.update(School).values(name="Elm Primary")
    db.session.execute(rename)  # a write: the transaction is open
    assert _mode(SHORT) == "force_generic_plan"
    assert _mode(LONG) == "auto"
    assert _mode(SHORT) == "auto", "SET LOCAL: to the end of the transaction"
    db.session.rollback()
    assert _mode(SHORT) == "force_generic_plan", "the rollback ended it"
    assert db.session.scalars(sa.select(School.name)).all() == ["Oak Primary"]
    db.session.execute(rename)
    assert _mode(LONG) == "auto", "a new transaction switches again"
    db.session.commit()
    assert _mode(SHORT) == "force_generic_plan", "the commit ended it"
    assert db.session.scalars(sa.select(School.name)).all() == ["Elm Primary"]


def test_a_long_list_read_while_a_write_sent_alone_is_on_its_way_waits_for_it(ctx):
    school = f.school(name="Oak Primary")
    db.session.commit()
    insert = sa.insert(ActivityLog)
    values = {"at": utcnow(), "event": "class.viewed", "organisation_id": school.id}
    with writing_alone(insert, values):
        assert _mode(LONG) == "auto"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityLog)) == 1
    assert _mode(SHORT) == "force_generic_plan"
