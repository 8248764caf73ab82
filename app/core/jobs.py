"""Background jobs on RQ.

- Job functions live in this package, take ids (never ORM objects) and are decorated with
  :func:`job`, which runs them inside an app context of the worker's one app.
- :func:`enqueue_after_commit` queues a job only once the surrounding database transaction has
  committed (and drops it on rollback), so a fast worker never misses the row it was told about.
  The commit stands even if Redis cannot take the job: the failure is logged (naming the job),
  never raised, and the job's sweep queues the work again (``sweep_deliveries`` for messages,
  ``app.jobs.recovery`` for topic announcements and export builds).
- Exceptions propagate, so failures reach RQ's failed-job registry and are retried with backoff.
"""

from __future__ import annotations

import functools
import logging
import reprlib

import redis
import sqlalchemy as sa
from flask import current_app, has_app_context
from rq import Queue, Retry
from sqlalchemy.orm import Session

from app.core.extensions import db

log = logging.getLogger(__name__)

DEFAULT_RETRY = Retry(max=3, interval=[10, 60, 300])
DEFAULT_TIMEOUT = 600
_worker_app = None


def set_worker_app(app) -> None:
    """Called once by worker.py: the app that jobs run in."""
    global _worker_app
    _worker_app = app


def _job_app():
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def job(func):
    """Run ``func`` inside a fresh app context (a fresh database session), unless one is active."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with _job_app().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def get_queue(name: str = "default", app=None) -> Queue:
    from app.core.redis_conn import get_redis

    return Queue(name, connection=get_redis(app or current_app))


def enqueue_now(
    func,
    *args,
    job_id: str | None = None,
    queue: str = "default",
    retry: Retry | None = DEFAULT_RETRY,
    timeout: int = DEFAULT_TIMEOUT,
    **kwargs,
):
    """Queue a job at once. A ``job_id`` already queued or running is not queued twice."""
    q = get_queue(queue)
    if job_id:
        existing = q.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=True) in (
            "queued",
            "started",
            "deferred",
            "scheduled",
        ):
            return existing
    return q.enqueue(
        func,
        args=args,
        job_id=job_id,
        retry=retry,
        job_timeout=timeout,
        failure_ttl=60 * 60 * 24 * 30,
        kwargs=kwargs,
    )


def enqueue_after_commit(func, *args, **options) -> None:
    """Queue a job when the current transaction commits; forget it if it rolls back."""
    session = db.session()
    session.info.setdefault("hometime_jobs", []).append(
        (current_app._get_current_object(), func, args, options)  # type: ignore[attr-defined]  # Flask types the proxy as Flask
    )


def _describe(func, args, options) -> str:
    name = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
    return f"{options.get('job_id') or 'job'} ({name}{reprlib.repr(tuple(args))})"


@sa.event.listens_for(Session, "after_commit")
def _flush_jobs(session: Session) -> None:
    """Queue the committed transaction's jobs. Never raises: the commit has happened, so the
    caller (a request, a job) succeeded. A Redis restart of a second or so is ridden out by the
    client's retries (``app.core.redis_conn.RETRY``); after that the job is logged as not queued and
    left to its sweep, and the other jobs of the commit are not tried (each would wait as long)."""
    pending = session.info.pop("hometime_jobs", [])
    unreachable = None
    for app, func, args, options in pending:
        if unreachable is None:
            try:
                with app.app_context():
                    enqueue_now(func, *args, **options)
                continue
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                unreachable = exc
            except Exception:  # noqa: BLE001 - after the commit nothing may fail the caller
                log.exception(
                    "job %s was not queued after the commit; its sweep will queue it again",
                    _describe(func, args, options),
                )
                continue
        log.error(
            "job %s was not queued after the commit (Redis unreachable: %s); its sweep will queue it again",
            _describe(func, args, options),
            unreachable,
        )


@sa.event.listens_for(Session, "after_rollback")
def _drop_jobs(session: Session) -> None:
    session.info.pop("hometime_jobs", None)
