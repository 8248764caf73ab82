"""``python -m bench.profile_request [path] [email]``: where one request's time goes.

Seeds the demo school on a fresh PostgreSQL (``bench.env``), signs in (the demo parent by
default), warms up, then runs 300 requests (``N`` in the environment) for ``path`` (default ``/``, following the parent's
home) under cProfile and prints the costliest functions (cumulative time; ``SORT=tottime``, ``TOP=n``), plus the mean
time per request with and without the profiler. ``HOMETIME_PROFILE_ENV=development`` profiles
with the settings ``make run`` uses (template auto-reload, asset manifest watching).
Not part of ``make bench`` (it prints a profile, not figures against budgets).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time

N = int(os.environ.get("N", "300"))


def main(argv: list[str]) -> None:
    from bench.bench_pages import _client
    from bench.env import bench_app

    path = argv[0] if argv else "/family/"
    email = argv[1] if len(argv) > 1 else "parent@example.org"
    env = os.environ.get("HOMETIME_PROFILE_ENV", "test")
    overrides = {"ENV_NAME": env} if env != "test" else {}
    if env == "development":
        overrides |= {"TEMPLATES_AUTO_RELOAD": None, "DEBUG": False}
    with bench_app(overrides) as app:
        from app.demo import seed

        with app.app_context():
            seed()
        client = _client(app, email)
        first = client.get(path, follow_redirects=True)
        path = first.request.path
        for _ in range(30):
            client.get(path)
        started = time.perf_counter()
        for _ in range(N):
            client.get(path)
        plain = (time.perf_counter() - started) * 1000 / N
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(N):
            client.get(path)
        profiler.disable()
        print(f"{path} as {email} ({env} settings): {plain:.2f} ms per request without the profiler")
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
            int(os.environ.get("TOP", "45"))
        )


if __name__ == "__main__":
    main(sys.argv[1:])
