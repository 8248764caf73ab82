"""``make run`` for real: an embedded PostgreSQL and Redis in its instance folder, a worker that
dies is started again, and Ctrl-C leaves nothing running; the clear messages it gives instead of
a traceback when it cannot start."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(instance: Path, port: int) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "HOMETIME_ENV")
        and not k.startswith("HOMETIME_")
    }
    env.update({"HOMETIME_INSTANCE": str(instance), "PORT": str(port), "PYTHONUNBUFFERED": "1"})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} within {seconds} s; make run said:\n{log.read_text()}")


def _status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as response:
            return response.status
    except OSError:
        return None


def _alive(procs: list[psutil.Process]) -> list[str]:
    left = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return left


@pytest.fixture()
def instance():
    # Short, private and not pytest's tmp_path: unix socket paths are limited to ~100 bytes.
    path = Path(tempfile.mkdtemp(prefix="ht-run-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_make_run_restarts_a_dead_worker_and_ctrl_c_leaves_nothing_running(instance):
    port, log = _free_port(), instance / "make-run.out"
    started = time.monotonic()
    with open(log, "w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "app.devrun"],
            cwd=ROOT,
            env=_env(instance, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pgdata = instance / "postgres"
    try:
        _wait_for(lambda: _status(port) == 200, 45, "no 200 from /", log)
        text = log.read_text()
        assert f"PostgreSQL 18: embedded, data in {pgdata}" in text
        assert (pgdata / "PG_VERSION").read_text().strip() == "18"
        assert f"data in {instance / 'seaweedfs'}" in text  # the object store, embedded too
        worker = int(re.search(r"started the worker \(pid (\d+)\)", text).group(1))
        descendants = psutil.Process(worker).children(recursive=True)  # RQ's scheduler

        os.kill(worker, signal.SIGKILL)
        died = f"the worker (pid {worker}) stopped (killed by SIGKILL); starting it again in 1 s"

        def restarted():
            text = log.read_text()
            return died in text and re.search(r"started the worker \(pid (\d+)\)", text.split(died)[1])

        restarted = _wait_for(restarted, 15, "the worker was not started again", log)
        new_worker = int(restarted.group(1))
        assert new_worker != worker and psutil.pid_exists(new_worker)
        assert _status(port) == 200  # the web app, Redis and PostgreSQL went on
        _wait_for(lambda: not _alive(descendants), 5, "the dead worker's children remain", log)

        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        everything = [*psutil.Process(run.pid).children(recursive=True), psutil.Process(postmaster)]
        assert len(everything) >= 6  # web app, worker, cron scheduler, redis, seaweedfs, postgres

        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C in the terminal: its foreground group
        assert run.wait(timeout=30) == 0, log.read_text()
        assert _alive(everything) == []
        assert not (pgdata / "postmaster.pid").exists()  # a clean (fast) shutdown
        assert "SIGINT: stopping" in log.read_text() and "PostgreSQL stopped" in log.read_text()
        assert "SeaweedFS stopped" in log.read_text()
        assert time.monotonic() - started < 60
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=30)


def _devrun(instance: Path, **extra) -> subprocess.CompletedProcess:
    env = _env(instance, _free_port())
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "app.devrun"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_make_run_refuses_a_data_folder_of_another_postgresql_version(instance):
    (instance / "postgres").mkdir()
    (instance / "postgres" / "PG_VERSION").write_text("17\n")
    result = _devrun(instance)
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert "holds a PostgreSQL 17 database, but this Hometime runs PostgreSQL 18" in said
    assert "Traceback" not in said
    assert sorted(p.name for p in (instance / "postgres").iterdir()) == ["PG_VERSION"]


def test_a_second_make_run_on_the_same_instance_folder_is_refused(instance):
    with open(instance / "make-run.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        result = _devrun(instance)
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert "another `make run` (pid 4242) is using" in said and "Traceback" not in said
    assert not (instance / "postgres").exists()  # nothing was started


def test_make_run_says_so_when_its_port_is_taken(instance):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = _devrun(instance, PORT=str(busy.getsockname()[1]))
    assert result.returncode == 1
    assert "is in use on 127.0.0.1" in result.stdout and "PORT=8080 make run" in result.stdout
    assert not (instance / "postgres").exists()


@pytest.mark.parametrize(
    "url, message",
    [
        (None, "Hometime has no database. Start it with `make run`"),
        ("sqlite:///instance/hometime.sqlite", "Hometime runs on PostgreSQL only"),
    ],
)
def test_flask_without_a_postgresql_url_says_what_to_do(instance, url, message):
    env = _env(instance, 0)
    if url:
        env["DATABASE_URL"] = url
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not list(instance.glob("*.sqlite"))
