"""``python -m bench.instructions [path] [email] [n]``: the Python process's instructions per request.

A request's time on a shared machine moves by a third from one minute to the next, more than
most single changes save; the number of instructions the CPU runs for it does not. This seeds
the demo school (``bench.env``), signs in as ``email`` (the demo parent by default; ``visitor``:
not signed in) with the cookie a browser holds after its first page, asks for ``path``
(default the parent home) 40 times to warm up, then ``n`` times (default 100) in-process with the settings ``make run`` uses, counted
by Valgrind's callgrind from the first of those requests to the last, and prints the instructions
per request (millions). The objects alive after the warm-up are frozen out of the garbage
collector first, as the served app freezes its own (``wsgi.py``): a full collection over them
cost some 100 million instructions, and one falling among the counted requests added millions to
a page's figure. The same code gives the same count to within a few hundredths of a
percent, so two commits can be compared one after the other (``git stash``, or another checkout:
run it there). PostgreSQL's share is not counted: it runs in its own processes.

Needs ``valgrind`` (Debian's package); the requests run about fifty times slower under it (a
minute for a hundred family homes). Not part of ``make bench``: it compares, it has no budget.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys

MARK = "HOMETIME_UNDER_CALLGRIND"
VISITOR = "visitor"  # in place of an e-mail address: asked without signing in


def _requests(path: str, email: str, n: int) -> None:
    """Runs inside callgrind: warm up, then switch counting on for ``n`` requests only."""
    from bench import bench_throughput as bt
    from bench.env import bench_app

    overrides = {"ENV_NAME": "development", "TEMPLATES_AUTO_RELOAD": None, "DEBUG": False}
    with bench_app(overrides | {"RATELIMIT_ENABLED": False, "REQUIRE_STAFF_MFA": False}) as app:
        from app.demo import seed

        with app.app_context():
            seed()
        client = app.test_client()
        if email != VISITOR:
            client.set_cookie("session", bt._cookie(app, email).split("=", 1)[1])
        headers = {"X-Forwarded-Proto": "https"}
        for _ in range(40):
            response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} for {email}")
        gc.collect()  # as wsgi.py does once the app is built: a full collection walked every
        gc.freeze()  # long-lived object, ~100 million instructions, on whichever request it fell
        pid = str(os.getpid())
        subprocess.run(["callgrind_control", "--instr=on", pid], check=True, stdout=subprocess.DEVNULL)
        for _ in range(n):
            client.get(path, headers=headers)
        subprocess.run(["callgrind_control", "--instr=off", pid], check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str]) -> None:
    path = argv[0] if argv else "/family/"
    email = argv[1] if len(argv) > 1 else "parent@example.org"
    n = int(argv[2]) if len(argv) > 2 else 100
    if os.environ.get(MARK):
        _requests(path, email, n)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null"]
        + [sys.executable, "-m", "bench.instructions", path, email, str(n)],
        env={**os.environ, MARK: "1"},
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or not found:
        sys.stderr.write(run.stderr[-4000:])
        raise SystemExit(run.returncode or 1)
    print(f"{path} as {email}: {int(found.group(1)) / n / 1e6:.3f} million instructions per request")


if __name__ == "__main__":
    main(sys.argv[1:])
