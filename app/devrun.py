"""``make run``: everything on this machine, on the same database engine as production.

1. An embedded PostgreSQL (``app.dev_postgres``) with its data in ``instance/postgres``, unless
   ``DATABASE_URL`` is set, and an embedded Redis on ``instance/redis.sock``, unless ``REDIS_URL``
   is set, and an embedded SeaweedFS (``app.core.seaweed``, the S3 object store for photos and
   exports) with its data in ``instance/seaweedfs``, unless ``S3_BUCKET`` is set.
   ``HOMETIME_INSTANCE`` names another instance folder.
2. ``flask db upgrade``, ``flask storage migrate --remove`` when ``instance/files`` still holds
   files from before the bucket, then ``flask demo`` (which creates the demo school only once).
3. The web app, an RQ worker and the cron scheduler, watched: a worker or the cron scheduler that
   dies is started again (with a line saying so); if the web app stops, everything is stopped,
   since nothing can be used without it. Ctrl-C, SIGTERM or SIGHUP stop everything: the three
   processes (each in its own process group, so nothing is left behind), SeaweedFS, Redis, and
   PostgreSQL with a fast shutdown.

One ``make run`` at a time per instance folder: a lock file (``instance/make-run.lock``) says
which process holds it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCH_SECONDS = 0.5
STOP_SECONDS = 10  # a worker's warm shutdown may finish the job it is running
STEADY_SECONDS = 30  # a process that ran this long before dying is restarted after 1 s


def say(message: str) -> None:
    print(f"make run: {message}", flush=True)


class DevrunError(RuntimeError):
    """``make run`` cannot go on; the message says why and what to do."""


class Stop(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP: stop everything."""


def _on_signal(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def _while_stopping(signum, _frame):
    say("still stopping; please wait")


def lock(instance: Path):
    """Hold ``instance/make-run.lock`` (released by the kernel however this process ends)."""
    path = instance / "make-run.lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DevrunError(
            f"another `make run` (pid {holder}) is using {instance}. Stop it first "
            f"(Ctrl-C in its terminal), or set HOMETIME_INSTANCE to another folder."
        )
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent():
    """In the child before exec (Linux): get SIGTERM if ``make run`` itself is killed outright."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except OSError:
        return None
    return lambda: libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_PDEATHSIG = _die_with_parent() if sys.platform.startswith("linux") else None


@dataclass
class Child:
    name: str
    argv: list[str]
    restartable: bool
    proc: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = 0.0
    restart_at: float | None = None
    family: list = field(default_factory=list)  # its descendants, last seen (psutil.Process)


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Starts the long-running processes and keeps the worker and cron scheduler running."""

    def __init__(self, env: dict, port: str):
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        self.env = env
        self.children = [
            Child(
                "web app",
                [*flask, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"],
                restartable=False,
            ),
            Child("worker", [sys.executable, "worker.py"], restartable=True),
            Child("cron scheduler", [sys.executable, "worker.py", "cron"], restartable=True),
        ]
        self._family_checked = 0.0

    def _start(self, child: Child) -> None:
        # Its own session: Ctrl-C in the terminal reaches only `make run`, which stops the
        # children in order; and the child's whole process group can be signalled.
        child.proc = subprocess.Popen(
            child.argv, cwd=ROOT, env=self.env, start_new_session=True, preexec_fn=_PDEATHSIG
        )
        child.started, child.restart_at, child.family = time.monotonic(), None, []
        say(f"started the {child.name} (pid {child.proc.pid})")

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)

    def _note_families(self) -> None:
        import psutil

        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                try:
                    child.family = psutil.Process(child.proc.pid).children(recursive=True)
                except psutil.Error:
                    pass

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def _kill_family(child: Child) -> None:
        """Kill what the child left behind (a job's work horse, RQ's scheduler process)."""
        import psutil

        for proc in child.family:
            try:
                if proc.is_running():
                    proc.kill()
            except psutil.Error:
                pass
        child.family = []

    def watch(self) -> int:
        """Return (1) when the web app stops; restart the others as they die."""
        while True:
            time.sleep(WATCH_SECONDS)
            now = time.monotonic()
            if now - self._family_checked > 2:
                self._note_families()
                self._family_checked = now
            for child in self.children:
                if child.proc is None:
                    if child.restart_at is not None and now >= child.restart_at:
                        self._start(child)
                    continue
                code = child.proc.poll()
                if code is None:
                    continue
                pid, child.proc = child.proc.pid, None
                self._signal_group(pid, signal.SIGKILL)  # what is left in its group
                self._kill_family(child)
                if not child.restartable:
                    say(
                        f"the {child.name} (pid {pid}) stopped ({_exit_text(code)}); stopping "
                        f"everything (see the messages above for why)"
                    )
                    return 1
                steady = now - child.started >= STEADY_SECONDS
                child.delay = 1.0 if steady or not child.delay else min(child.delay * 2, 30.0)
                child.restart_at = now + child.delay
                say(
                    f"the {child.name} (pid {pid}) stopped ({_exit_text(code)}); starting it "
                    f"again in {child.delay:g} s"
                )

    def stop_all(self) -> None:
        """SIGTERM to every child's group; again after a while (an RQ worker then stops the job
        it is running); then SIGKILL whatever is left, and their descendants."""
        self._note_families()
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGTERM, 5)):
            for proc in running:
                if proc.poll() is None:
                    self._signal_group(proc.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and any(p.poll() is None for p in running):
                time.sleep(0.1)
        for child in self.children:
            if child.proc is not None:
                self._signal_group(child.proc.pid, signal.SIGKILL)
                try:
                    child.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                child.proc = None
            self._kill_family(child)


def main() -> int:
    from app.core.config import INSTANCE

    env = dict(os.environ)
    env.setdefault("HOMETIME_ENV", "development")
    env.setdefault("FLASK_APP", "wsgi")
    env["HOMETIME_INSTANCE"] = str(INSTANCE)
    port = env.get("PORT", "5000")
    INSTANCE.mkdir(parents=True, exist_ok=True)
    pgdata = INSTANCE / "postgres"
    own_postgres = own_redis = False
    seaweed_server = None
    supervisor: Supervisor | None = None
    held = None
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        held = lock(INSTANCE)
        if not port.isdigit() or not _port_free(int(port)):
            raise DevrunError(
                f"port {port} is in use on 127.0.0.1 (another server?). Stop it, "
                f"or choose another port: PORT=8080 make run"
            )
        if not (env.get("S3_BUCKET") or env.get("HOMETIME_S3_BUCKET")):
            from app.core import seaweed

            # Started first, without waiting: it gets ready while PostgreSQL starts.
            seaweed_server = seaweed.start(INSTANCE / "seaweedfs", wait=False)
        if not env.get("DATABASE_URL"):
            from app import dev_postgres

            if dev_postgres.running_pid(pgdata):
                say(f"using the PostgreSQL left running in {pgdata} by an earlier `make run`")
            own_postgres = True
            try:
                env["DATABASE_URL"] = dev_postgres.start(pgdata)
            except dev_postgres.DevPostgresError as exc:
                own_postgres = dev_postgres.running_pid(pgdata) is not None
                raise DevrunError(str(exc)) from None
            say(f"PostgreSQL {dev_postgres.wheel_version()}: embedded, data in {pgdata} (kept between runs)")
        else:
            say("PostgreSQL: the database named by DATABASE_URL")
        if not env.get("REDIS_URL"):
            from app.core.redis_conn import start_embedded

            own_redis = True
            env["REDIS_URL"] = start_embedded(INSTANCE)
            say(f"Redis: embedded redis-server at {env['REDIS_URL']}")
        else:
            say("Redis: the server named by REDIS_URL")
        if seaweed_server is not None:
            from app.core import seaweed

            try:
                seaweed.wait_ready(seaweed_server)
            except seaweed.SeaweedError as exc:
                raise DevrunError(str(exc)) from None
            env.update(seaweed_server.env())
            say(f"SeaweedFS: embedded S3 at {seaweed_server.endpoint}, data in {INSTANCE / 'seaweedfs'}")
        else:
            say("object store: the bucket named by S3_BUCKET")
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        steps = [["db", "upgrade"], ["demo"]]  # the demo school is created only once
        if any(p.is_file() for p in (INSTANCE / "files").rglob("*")):
            steps.insert(1, ["storage", "migrate", "--remove"])  # files from before the bucket
        for step in steps:
            if subprocess.run([*flask, *step], cwd=ROOT, env=env).returncode:
                raise DevrunError(f"`flask {' '.join(step)}` failed (see above)")
        supervisor = Supervisor(env, port)
        supervisor.start_all()
        say(f"Hometime is running on http://127.0.0.1:{port}/  (Ctrl-C stops it)")
        say(
            "demo sign-ins: office@example.org, teacher@example.org, parent@example.org; "
            "password hometime-demo"
        )
        return supervisor.watch()
    except Stop as stop:
        say(f"{stop.args[0]}: stopping")
        return 0
    except DevrunError as exc:
        say(str(exc))
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _while_stopping)
        if supervisor is not None:
            supervisor.stop_all()
        if seaweed_server is not None:
            from app.core import seaweed

            seaweed.stop(seaweed_server)
            say("SeaweedFS stopped")
        if own_redis and env.get("REDIS_URL"):
            from app.core.redis_conn import stop_embedded

            stop_embedded(env["REDIS_URL"])
        if own_postgres:
            from app import dev_postgres

            if dev_postgres.stop(pgdata):
                say("PostgreSQL stopped")
            else:
                say(f"PostgreSQL in {pgdata} did not stop; see {pgdata / 'log'}")
        if held is not None:
            held.close()
        if supervisor is not None or own_postgres:
            say("stopped")


if __name__ == "__main__":
    sys.exit(main())
