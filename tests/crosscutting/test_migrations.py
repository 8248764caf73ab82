"""Migrations build the schema from empty on PostgreSQL (the only engine: production, the tests
and `make run`), match the models, and go all the way down and up again; a data migration is run
on a database of the version before it."""

import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _flask(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(app, db_url):
    env = dict(os.environ)
    env.update(
        {
            "HOMETIME_ENV": "test",
            "HOMETIME_SQLALCHEMY_DATABASE_URI": db_url,
            "HOMETIME_REDIS_URL": app.config["REDIS_URL"],
        }
    )
    return env


def test_models_and_migrations_do_not_drift_on_postgresql(app):
    # The session's database was built by `upgrade()` in conftest; `db check` compares it.
    check = _flask(_env(app, app.config["SQLALCHEMY_DATABASE_URI"]), "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def _seed_0004(db_url: str) -> dict:
    """A 0004 database with the placeholder addresses that version stored: a parent with only a
    mobile, a letter without an email address, and a real address."""
    import sqlalchemy as sa

    from app.core.extensions import db
    from app.models import RequestChannel, RequestKind, RequestState, UserKind, UserStatus

    tables, engine = db.metadata.tables, sa.create_engine(db_url)
    with engine.begin() as conn:
        org = conn.execute(
            tables["organisations"].insert().values(name="Oak Primary", dpo_email="dpo@oak.example")
        ).inserted_primary_key[0]
        mum = conn.execute(
            tables["users"]
            .insert()
            .values(kind=UserKind.PARENT, name="Mobile Mum", mobile="+447700900321", status=UserStatus.ACTIVE)
        ).inserted_primary_key[0]
        ids = {}
        for key, email, requester, channel in (
            ("mobile", f"no-email+user{mum}@hometime.invalid", mum, RequestChannel.WEB),
            ("letter", "no-email+0a1b2c3d4e5f6a7b@hometime.invalid", None, RequestChannel.LETTER),
            ("real", "real@family.example", None, RequestChannel.EMAIL),
        ):
            ids[key] = conn.execute(
                tables["privacy_requests"]
                .insert()
                .values(
                    organisation_id=org,
                    kind=RequestKind.ACCESS,
                    state=RequestState.RECEIVED,
                    channel=channel,
                    requester_id=requester,
                    requester_name="Someone",
                    requester_email=email,
                    on_behalf_of="self",
                    details="",
                    received_on=date(2026, 11, 2),
                    paused_days=0,
                    extension_months=0,
                )
            ).inserted_primary_key[0]
    engine.dispose()
    return ids


def _emails_after_upgrade(app, db_url: str) -> dict:
    import sqlalchemy as sa

    env = _env(app, db_url)
    to_0004 = _flask(env, "db", "upgrade", "0004")
    assert to_0004.returncode == 0, to_0004.stderr
    ids = _seed_0004(db_url)
    up = _flask(env, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    check = _flask(env, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT id, requester_email FROM privacy_requests")).all())
    engine.dispose()
    return {key: rows[row_id] for key, row_id in ids.items()}


EXPECTED = {"mobile": None, "letter": None, "real": "real@family.example"}


@contextmanager
def _fresh_database(app, label: str):
    """The URL of a new, empty database on the suite's server (dropped afterwards)."""
    import sqlalchemy as sa

    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"mig_{label}_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_0005_turns_placeholder_addresses_into_null_on_postgresql(app):
    with _fresh_database(app, "0005") as fresh:
        assert _emails_after_upgrade(app, fresh) == EXPECTED


def test_every_migration_goes_down_and_up_again(app):
    import sqlalchemy as sa

    with _fresh_database(app, "down") as fresh:
        env = _env(app, fresh)
        for step in (("upgrade",), ("downgrade", "base"), ("upgrade",), ("check",)):
            done = _flask(env, "db", *step)
            assert done.returncode == 0, f"db {' '.join(step)}: {done.stdout}{done.stderr}"
            if step == ("downgrade", "base"):
                engine = sa.create_engine(fresh)
                with engine.connect() as conn:
                    left = sa.inspect(conn).get_table_names()
                    functions = conn.scalar(
                        sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'consent_records_append_only'")
                    )
                engine.dispose()
                assert left == ["alembic_version"] and functions == 0


def _roles_after_0007(app, db_url: str) -> set[str]:
    """A 0005 database with the roles that version wrote when an invitation was sent; the
    roles left after upgrading."""
    from datetime import datetime, timedelta

    import sqlalchemy as sa

    from app.core.extensions import db
    from app.models import InvitationStatus, Role, UserKind, UserStatus

    env = _env(app, db_url)
    to_0005 = _flask(env, "db", "upgrade", "0005")
    assert to_0005.returncode == 0, to_0005.stderr
    tables, engine = db.metadata.tables, sa.create_engine(db_url)
    users, orgs = tables["users"], tables["organisations"]
    then = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    names = {}
    with engine.begin() as conn:
        ash = conn.execute(orgs.insert().values(name="Ash", dpo_email="d@ash.example")).inserted_primary_key[
            0
        ]
        birch = conn.execute(
            orgs.insert().values(name="Birch", dpo_email="d@birch.example")
        ).inserted_primary_key[0]

        def person(name):
            return conn.execute(
                users.insert().values(
                    kind=UserKind.STAFF, name=name, email=f"{name}@x.example", status=UserStatus.ACTIVE
                )
            ).inserted_primary_key[0]

        def role(user, org, at, label):
            mid = conn.execute(
                tables["staff_memberships"]
                .insert()
                .values(user_id=user, organisation_id=org, role=Role.OFFICE, created_at=at)
            ).inserted_primary_key[0]
            names[mid] = label

        def invitation(user, org, at, status):
            conn.execute(
                tables["invitations"]
                .insert()
                .values(
                    organisation_id=org,
                    user_id=user,
                    role="office",
                    token_hash=f"t{user}{org}{status}",
                    status=status,
                    expires_at=at + timedelta(days=30),
                    created_at=at,
                )
            )

        tess = person("tess")  # Ash's, long before; Birch "invited" her and the role was written
        role(tess, ash, then - timedelta(days=300), "tess at ash")
        role(tess, birch, then, "tess at birch, never accepted")
        invitation(tess, birch, then + timedelta(seconds=1), InvitationStatus.SENT)
        joined = person("joined")  # invited, resent, accepted the second
        role(joined, ash, then, "joined at ash")
        invitation(joined, ash, then, InvitationStatus.REVOKED)
        invitation(joined, ash, then + timedelta(days=2), InvitationStatus.ACCEPTED)
        kept = person("kept")  # a member long before; re-invited by mistake
        role(kept, ash, then - timedelta(days=100), "kept at ash")
        invitation(kept, ash, then, InvitationStatus.SENT)
    engine.dispose()
    up = _flask(env, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        left = set(conn.execute(sa.text("SELECT id FROM staff_memberships")).scalars())
    engine.dispose()
    return {names[i] for i in left}


ROLES_KEPT = {"tess at ash", "joined at ash", "kept at ash"}


def test_0007_takes_back_roles_of_invitations_never_accepted(app):
    with _fresh_database(app, "0007") as fresh:
        assert _roles_after_0007(app, fresh) == ROLES_KEPT
