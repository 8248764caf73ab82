"""Migrations build the schema from empty on SQLite and PostgreSQL, and match the models."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def _env(app, db_url):
    import os

    env = dict(os.environ)
    env.update({"HOMETIME_ENV": "test", "HOMETIME_SQLALCHEMY_DATABASE_URI": db_url,
                "HOMETIME_REDIS_URL": app.config["REDIS_URL"]})
    return env


def test_upgrade_from_empty_on_sqlite_then_check(app, tmp_path):
    env = _env(app, f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    up = _flask(env, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    check = _flask(env, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_models_and_migrations_do_not_drift_on_postgresql(app):
    # The session's database was built by `upgrade()` in conftest; `db check` compares it.
    check = _flask(_env(app, app.config["SQLALCHEMY_DATABASE_URI"]), "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
