"""The app as ``wsgi.py`` builds it, plus ``/bench-static/<name>``: bytes written to the folder
named by ``HOMETIME_BENCH_STATIC`` served from memory by the same gunicorn workers, the static
baseline bench_throughput compares each page with. Used only by ``make bench``."""

from __future__ import annotations

import os
from pathlib import Path

from wsgi import app as hometime

PREFIX = "/bench-static/"
FOLDER = Path(os.environ["HOMETIME_BENCH_STATIC"])
FILES = {p.name: p.read_bytes() for p in FOLDER.iterdir() if p.is_file()}


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(PREFIX) and path[len(PREFIX) :] in FILES:
        body = FILES[path[len(PREFIX) :]]
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        )
        return [body]
    return hometime(environ, start_response)
