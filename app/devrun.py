"""``make run``: migrate, seed the demo once, then run the web app, an RQ worker and the cron
scheduler together on this machine, sharing an embedded Redis unless REDIS_URL is set."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = dict(os.environ)
    env.setdefault("HOMETIME_ENV", "development")
    env.setdefault("FLASK_APP", "wsgi")
    instance = ROOT / "instance"
    instance.mkdir(exist_ok=True)
    embedded = not env.get("REDIS_URL")
    if embedded:
        from app.redis_conn import start_embedded

        env["REDIS_URL"] = start_embedded(instance)
        print(f"Redis: embedded redis-server at {env['REDIS_URL']}", flush=True)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], check=True, cwd=ROOT, env=env)
    subprocess.run([*flask, "demo"], check=True, cwd=ROOT, env=env)  # only creates it once
    port = env.get("PORT", "5000")
    procs = [
        subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env),
        subprocess.Popen([sys.executable, "worker.py", "cron"], cwd=ROOT, env=env),
        subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"],
                         cwd=ROOT, env=env),
    ]
    print(f"Hometime is running on http://127.0.0.1:{port}/  (Ctrl-C stops it)", flush=True)
    print("Demo sign-ins: office@example.org, teacher@example.org, parent@example.org; "
          "password hometime-demo", flush=True)

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if embedded:
            from app.redis_conn import stop_embedded

            stop_embedded(env["REDIS_URL"])
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(p.poll() is None for p in procs):
        time.sleep(1)
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
