"""The app as gunicorn loads it (wsgi.py) keeps its own objects out of the garbage collector's
full passes: a full pass over them took about a tenth of a second, and fell on one request in a
few hundred."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_app_is_frozen_out_of_full_collections(_servers):
    env = {**os.environ, "DATABASE_URL": _servers["db"], "REDIS_URL": _servers["redis"]}
    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects(generation=2)))"
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    frozen, left = map(int, run.stdout.split()[-2:])
    assert frozen > 50_000  # the app's modules, mappers, template environment...
    assert left < frozen / 10  # what a full collection still walks
