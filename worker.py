"""Background processes: ``python worker.py`` runs an RQ worker (with RQ's scheduler for delayed
jobs); ``python worker.py cron`` runs the cron scheduler that enqueues the periodic jobs."""

from __future__ import annotations

import logging
import sys

from app import create_app
from app.core.config import ConfigError
from app.core.jobs import set_worker_app
from app.core.redis_conn import get_redis


def main(argv: list[str]) -> int:
    try:
        app = create_app()
    except ConfigError as exc:
        print(f"Hometime: {exc}", file=sys.stderr)
        return 2
    set_worker_app(app)
    connection = get_redis(app)
    logging.getLogger("rq").setLevel(logging.INFO)
    if argv[1:2] == ["cron"]:
        from app.jobs.schedule import build_scheduler

        build_scheduler(connection).start()
        return 0
    from rq import Worker

    queues = list(app.config["RQ_QUEUES"])
    worker = Worker(
        queues, connection=connection, name=None, maintenance_interval=app.config["RQ_MAINTENANCE_SECONDS"]
    )
    worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
