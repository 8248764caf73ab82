"""``python -m bench.compare_throughput OTHER_TREE [path] [rounds]``: this checkout against
another (a ``git worktree`` of an earlier commit, say) under the same load, turn about.

On a shared two-core machine one page's rate moves by a tenth from run to run, more than most
single changes save, so two separate ``bench throughput`` runs cannot tell them apart. This starts
both trees' gunicorns (2 workers each, production settings) on one PostgreSQL with the demo school,
checks that they answer ``path`` (default the parent home) with the same bytes (CSRF tokens
aside), then loads them in turn, ABBA, ``rounds`` times (default 6) for ``BENCH_THROUGHPUT_SECONDS``
each (default 6), and prints each round and the medians: requests per second and the gunicorn
workers' CPU per request. The other tree needs its translations compiled (``make install``
there, or copy the ``.mo`` files). Not part of ``make bench``: it compares, it has no budget.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import sys
import tempfile
from pathlib import Path

from bench import bench_throughput as bt
from bench.env import bench_app

TOKENS = re.compile(rb'(csrf_token" value="|X-CSRFToken": ")[^"]+')


def _start(app, root: Path):
    port = bt._free_port()
    saved, bt.ROOT = bt.ROOT, root
    try:
        return bt._gunicorn(app, "production", Path(tempfile.mkdtemp(prefix="hometime-static-")), port), port
    finally:
        bt.ROOT = saved


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    other = Path(argv[0]).resolve()
    path = argv[1] if len(argv) > 1 else "/family/"
    rounds = int(argv[2]) if len(argv) > 2 else 6
    bt.SECONDS = float(os.environ.get("BENCH_THROUGHPUT_SECONDS", "6"))
    with bench_app() as app:
        from app.demo import seed

        with app.app_context():
            seed()
        parent, _, teacher = (cookie for _, _, cookie in bt._targets(app))
        cookie = parent if path.startswith("/family") else teacher
        headers = {"X-Forwarded-Proto": "https", "Accept-Encoding": "identity", "Cookie": cookie}
        servers = {}
        try:
            servers["other"] = _start(app, other)
            servers["this"] = _start(app, bt.ROOT)
            bodies = {}
            for name, (_, port) in servers.items():
                status, _, body = bt._get(port, path, headers)
                print(f"{name}: {path} answered {status}, {len(body):,} bytes")
                bodies[name] = TOKENS.sub(rb"\1", body)
            print("same bytes, CSRF tokens aside:", bodies["other"] == bodies["this"])
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            for n in range(rounds):
                for name in ("other", "this") if n % 2 == 0 else ("this", "other"):
                    proc, port = servers[name]
                    rps, p50, p99, cpu = bt.load(port, path, headers, bt._children(proc.pid))
                    results[name].append((rps, cpu))
                    print(
                        f"{name:>5}: {rps:5.0f} req/s, p50 {p50:5.1f} ms, p99 {p99:5.1f} ms, CPU {cpu:.2f} ms"
                    )
            for name, found in results.items():
                rate = statistics.median(r for r, _ in found)
                cpu = statistics.median(c for _, c in found)
                print(f"{name:>5}: median {rate:.0f} req/s, workers' CPU {cpu:.2f} ms per request")
        finally:
            for proc, _ in servers.values():
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
