"""``make rehearsal``: Hometime as production runs it, on one machine, with faults.

Two web hosts (gunicorn, each with its own instance folder and port) behind a small load balancer
(:class:`Balancer`, in this process), three RQ workers, one cron scheduler, one PostgreSQL, one
Redis and one SeaweedFS, all started here in a temporary folder. A bounded, scripted load runs
through the balancer: parents sign in, rate activities and send photos; a topic is published to
many carers; the office builds exports. During it one web host and one worker are killed with
SIGKILL and SeaweedFS is restarted once. Then it prints what a person running Hometime needs to
know: requests served per host, errors seen by clients, photos uploaded on one host and read back
through the other, lost ratings, lost photos, messages sent twice, exports complete, and
throughput with two hosts and with one.

The issue's load (2,000 parents, 10,000 carers, 50 exports) is scaled down by ``--scale``
(default 0.05: 100 parents, 500 carers, 3 exports) so that the run takes a few minutes on a
two-core machine; ``--scale 1`` runs the full load.
"""

from __future__ import annotations

import argparse
import http.client
import io
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "rehearsal-password"
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def say(text: str) -> None:
    print(f"rehearsal: {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the load balancer -------------------------------------------------------------------------


class Balancer(ThreadingHTTPServer):
    """Round robin over the web hosts. A host that refuses the connection (nothing was sent) is
    skipped for a few seconds and the request goes to the next; a host that fails mid-request
    (the request may have been acted on) answers the client 502, as a real balancer does."""

    daemon_threads = True

    def __init__(self, port: int, backends: dict[str, int]):
        super().__init__(("127.0.0.1", port), _Proxy)
        self.backends = backends
        self.order = list(backends)
        self.down_until: dict[str, float] = {}
        self.served: Counter = Counter()
        self.errors: Counter = Counter()
        self.lock = threading.Lock()
        self.turn = 0

    def pick(self, skip: set[str]) -> str | None:
        with self.lock:
            now = time.monotonic()
            for _ in range(len(self.order)):
                name = self.order[self.turn % len(self.order)]
                self.turn += 1
                if name not in skip and self.down_until.get(name, 0) <= now:
                    return name
        return None


class _Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # quiet
        pass

    def _relay(self):
        server: Balancer = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        tried: set[str] = set()
        while True:
            name = server.pick(tried)
            if name is None:
                self.send_error(503, "no web host available")
                return
            tried.add(name)
            conn = http.client.HTTPConnection("127.0.0.1", server.backends[name], timeout=60)
            try:
                conn.connect()
            except OSError:
                server.down_until[name] = time.monotonic() + 5
                continue  # nothing was sent: safe to try the next host
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                server.errors[name] += 1
                server.down_until[name] = time.monotonic() + 5
                self.send_error(502, "the web host failed mid-request")
                return
            finally:
                conn.close()
            with server.lock:
                server.served[name] += 1
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Web-Host", name)
            self.end_headers()
            self.wfile.write(data)
            return

    do_GET = do_POST = do_HEAD = _relay


# --- the processes -----------------------------------------------------------------------------


class Cluster:
    def __init__(self, workdir: Path, scale: float):
        self.workdir, self.scale = workdir, scale
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = dict(os.environ)
        self.ports: dict[str, int] = {}

    def start_services(self) -> None:
        from cryptography.fernet import Fernet

        from app.core import seaweed
        from app.core.redis_conn import start_embedded
        from tests import services

        self.db_url, self.pg = services.postgres_url(self.workdir)
        say("PostgreSQL up")
        self.redis_url = start_embedded(self.workdir / "redis")
        say("Redis up")
        self.seaweed = seaweed.start(self.workdir / "seaweedfs")
        say(f"SeaweedFS up at {self.seaweed.endpoint}")
        self.env.update(
            {
                "HOMETIME_ENV": "development",
                "HOMETIME_SQLALCHEMY_DATABASE_URI": self.db_url,
                "HOMETIME_REDIS_URL": self.redis_url,
                "HOMETIME_SECRET_KEY": "rehearsal-" + "x" * 40,
                "HOMETIME_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "HOMETIME_RATELIMIT_ENABLED": "false",
                "HOMETIME_REQUIRE_STAFF_MFA": "false",
                "HOMETIME_INSTANCE": str(self.workdir / "instance-tools"),
                **self.seaweed.env(),
            }
        )
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REDIS_URL", None)
        for step in (["db", "upgrade"], ["demo"]):
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", *step],
                cwd=ROOT,
                env=self.env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        say("database migrated, demo school created")

    def _spawn(self, name: str, argv: list[str], **env) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self, name: str) -> None:
        port = self.ports.setdefault(name, free_port())
        instance = self.workdir / f"instance-{name}"
        instance.mkdir(exist_ok=True)
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "wsgi:app",
            ],
            HOMETIME_INSTANCE=str(instance),
        )

    def start_worker(self, name: str, *args: str) -> None:
        self._spawn(name, [sys.executable, "worker.py", *args])

    def wait_web(self, name: str) -> None:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.ports[name], timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"web host {name} did not start (see {self.workdir / (name + '.log')})")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        from app.core import seaweed
        from app.core.redis_conn import stop_embedded

        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if getattr(self, "seaweed", None):
            seaweed.stop(self.seaweed)
        if getattr(self, "redis_url", None):
            stop_embedded(self.redis_url)
        if getattr(self, "pg", None) is not None:
            self.pg.cleanup()


# --- the data ----------------------------------------------------------------------------------


def seed(app, parents: int, carers: int) -> dict:
    """Parents (each with a child in Year 1 or Year 3, who have this week's topic from the demo),
    and a class of carers with a draft topic to publish during the load."""
    import sqlalchemy as sa

    from app.auth.passwords import hash_password
    from app.core.extensions import db
    from app.learning import topics
    from app.models import (
        Activity,
        Guardianship,
        Organisation,
        Pupil,
        SchoolClass,
        TopicStatus,
        User,
        UserKind,
        UserStatus,
        WeeklyTopic,
    )

    with app.app_context():
        school = db.session.scalar(sa.select(Organisation))
        classes = {c.name: c for c in db.session.scalars(sa.select(SchoolClass))}
        teacher = db.session.scalar(sa.select(User).where(User.email == "teacher@example.org"))
        password = hash_password(PASSWORD)
        people = []

        def add_family(i: int, school_class, prefix: str) -> tuple:
            pupil = Pupil(
                organisation_id=school.id,
                class_id=school_class.id,
                year_group=school_class.year_group,
                first_name=f"Child{i}",
                last_name=prefix.title(),
                upn=f"{prefix[:1].upper()}{900000000000 + i}",
            )
            user = User(
                kind=UserKind.PARENT,
                name=f"{prefix.title()} {i}",
                email=f"{prefix}{i}@rehearsal.example.org",
                password_hash=password,
                status=UserStatus.ACTIVE,
            )
            db.session.add_all([pupil, user])
            db.session.flush()
            db.session.add(Guardianship(parent_id=user.id, pupil_id=pupil.id))
            return user, pupil

        for i in range(parents):
            user, pupil = add_family(i, classes[("Year 1", "Year 3")[i % 2]], "parent")
            people.append((user.email, pupil.id, pupil.class_id))
        announce = SchoolClass(
            organisation_id=school.id,
            name="Rehearsal",
            year_group="2",
            academic_year=classes["Year 1"].academic_year,
            teachers=[teacher],
        )
        db.session.add(announce)
        db.session.flush()
        for i in range(carers):
            add_family(i, announce, "carer")
        db.session.commit()
        items = {}
        for topic in db.session.scalars(
            sa.select(WeeklyTopic).where(WeeklyTopic.status == TopicStatus.PUBLISHED)
        ):
            for c in topic.classes:
                items[c.id] = [i.id for i in sorted(topic.items, key=lambda i: i.position)]
        week = topics.monday_of(topics.school_today(school))
        draft = topics.create_topic(
            teacher, [announce], week, "Rehearsal week", "Published during the rehearsal."
        )
        activity = db.session.scalar(
            sa.select(Activity).where(Activity.organisation_id == school.id).limit(1)
        )
        topics.add_activity(draft, draft.version, activity)
        return {
            "parents": [(email, pid, items[cid]) for email, pid, cid in people],
            "topic": draft.id,
            "school": school.id,
        }


# --- the load ----------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


class Browser:
    """One parent's browser: cookies, the CSRF token, requests through the balancer."""

    def __init__(self, port: int):
        self.port, self.cookies, self.token = port, {}, None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, port=None
    ):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=60)
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        if self.token and method == "POST":
            h["X-CSRFToken"] = self.token
        try:
            conn.request(method, path, body=body, headers=h)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        found = _TOKEN.search(data.decode("utf-8", "replace")) if b"csrf" in data.lower() else None
        if found:
            self.token = found.group(1) or found.group(2)
        return response.status, response.getheader("X-Web-Host"), data, response.getheader("Location")


def _photo(i: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), ((i * 37) % 256, (i * 91) % 256, 120)).save(out, "JPEG", quality=85)
    return out.getvalue()


def _multipart(fields: dict, file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----rehearsal" + os.urandom(8).hex()
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Load:
    def __init__(self, lb_port: int):
        self.lb_port = lb_port
        self.lock = threading.Lock()
        self.acknowledged_ratings: list[tuple[int, int, int]] = []  # (pupil, item, rating)
        self.acknowledged_photos: list[tuple[int, int, str]] = []  # (pupil, item, host)
        self.client_errors: Counter = Counter()  # (status, host or "balancer") -> count
        self.requests = 0
        self.seconds: list[float] = []  # each request's time as the client saw it
        self.photo_reads = {"tried": 0, "ok": 0}

    def _count(self, status: int, host: str | None, started: float | None = None) -> None:
        with self.lock:
            self.requests += 1
            if started is not None:
                self.seconds.append(time.monotonic() - started)
            if status >= 500:
                self.client_errors[f"{status} from {host or 'the balancer'}"] += 1

    def parent(self, i: int, email: str, pupil: int, items: list[int]) -> None:
        b = Browser(self.lb_port)
        t = time.monotonic()
        status, host, _, _ = b.request("GET", "/auth/signin")
        self._count(status, host, t)
        form = f"email={email.replace('@', '%40')}&password={PASSWORD}&csrf_token={b.token}&next="
        t = time.monotonic()
        status, host, _, _ = b.request(
            "POST", "/auth/signin", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        self._count(status, host, t)
        t = time.monotonic()
        status, host, _, _ = b.request("GET", "/family/")
        self._count(status, host, t)
        if status != 200:
            return
        for n, item in enumerate(items[:2]):
            rating = (i + n) % 5 + 1
            t = time.monotonic()
            status, host, _, _ = b.request(
                "POST",
                f"/family/children/{pupil}/items/{item}/rating",
                f"rating={rating}&csrf_token={b.token}".encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            self._count(status, host, t)
            if status in (200, 303):
                with self.lock:
                    self.acknowledged_ratings.append((pupil, item, rating))
        if i % 2 == 0 and items:
            body, ctype = _multipart({"csrf_token": b.token, "comment": ""}, "photo", "p.jpg", _photo(i))
            t = time.monotonic()
            status, host, _, _ = b.request(
                "POST", f"/family/children/{pupil}/items/{items[-1]}/send", body, {"Content-Type": ctype}
            )
            self._count(status, host, t)
            if status in (200, 303):
                with self.lock:
                    self.acknowledged_photos.append((pupil, items[-1], host))
        self.browser_of = getattr(self, "browser_of", {})
        self.browser_of[pupil] = b


def start_exports(app, data: dict, count: int) -> list[int]:
    """The office builds ``count`` exports: a parent asks for their child's data, the office checks
    and starts the export (built by the workers)."""
    import sqlalchemy as sa

    from app.core.extensions import db
    from app.dataprotection.exports import service as exports
    from app.dataprotection.requests import intake, workflow
    from app.models import User

    ids = []
    with app.app_context():
        office = db.session.scalar(sa.select(User).where(User.email == "office@example.org"))
        for email, pupil, _items in data["parents"][:count]:
            parent = db.session.scalar(sa.select(User).where(User.email == email))
            req = intake.request_as_parent(
                parent, kind="access", pupil_id=pupil, organisation_id=data["school"]
            )
            workflow.transition(req.id, "identity_check", actor=office)
            workflow.transition(req.id, "in_progress", actor=office)
            ids.append(exports.start(req.id, office).id)
        db.session.remove()
    return ids


# --- the run -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05, help="share of the issue's load (default 0.05)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    parents, carers, export_count = (max(2, math.ceil(n * args.scale)) for n in (2000, 10000, 50))
    workdir = Path(tempfile.mkdtemp(prefix="hometime-rehearsal-"))
    cluster = Cluster(workdir, args.scale)
    balancer = None
    started = time.monotonic()
    try:
        cluster.start_services()
        from app import create_app

        for key, value in cluster.env.items():
            if key.startswith("HOMETIME_"):
                os.environ[key] = value
        app = create_app()
        data = seed(app, parents, carers)
        say(f"seeded {parents} parents, {carers} carers (scale {args.scale:g} of the issue's load)")
        for name in ("web-a", "web-b"):
            cluster.start_web(name)
        for n in range(3):
            cluster.start_worker(f"worker-{n + 1}")
        cluster.start_worker("cron", "cron")
        for name in ("web-a", "web-b"):
            cluster.wait_web(name)
        lb_port = free_port()
        balancer = Balancer(lb_port, {"web-a": cluster.ports["web-a"], "web-b": cluster.ports["web-b"]})
        threading.Thread(target=balancer.serve_forever, daemon=True).start()
        say(f"two web hosts behind the balancer on http://127.0.0.1:{lb_port}/, three workers, cron")

        load = Load(lb_port)
        people = data["parents"]
        half = len(people) // 2
        # Phase 1: two hosts, no faults (throughput with two hosts).
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda a: load.parent(a[0], *a[1]), enumerate(people[:half])))
        two_hosts = half / (time.monotonic() - t0)
        say(f"phase 1 (two hosts): {half} parents, {two_hosts:.1f} parents/s")

        # Publish the topic to the carers, then the faults during phase 2.
        from app.core.extensions import db
        from app.learning import topics
        from app.models import WeeklyTopic

        with app.app_context():
            topic = db.session.get(WeeklyTopic, data["topic"])
            topics.publish_now(topic, topic.version)
        published = time.monotonic()
        say(f"topic published to {carers} carers")
        data["exports"] = start_exports(app, data, export_count)
        say(f"the office started {len(data['exports'])} exports")

        def faults():
            time.sleep(2)
            cluster.kill("web-a")
            say("kill -9 web host A")
            cluster.kill("worker-1")
            say("kill -9 worker 1")
            time.sleep(2)
            from app.core import seaweed

            seaweed.stop(cluster.seaweed)
            seaweed.start(cluster.workdir / "seaweedfs")
            say("SeaweedFS restarted")

        fault = threading.Thread(target=faults)
        t1 = time.monotonic()
        fault.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda a: load.parent(half + a[0], *a[1]), enumerate(people[half:])))
        fault.join()
        one_host = (len(people) - half) / (time.monotonic() - t1)
        say(f"phase 2 (one host after the kill): {len(people) - half} parents, {one_host:.1f} parents/s")

        # Photos uploaded through one host, read back directly from the other (B, still alive).
        read_ok = read_tried = 0
        for pupil, _item, host in load.acknowledged_photos:
            if host != "web-a":
                continue
            browser = load.browser_of.get(pupil)
            with app.app_context():
                import sqlalchemy as sa

                from app.models import Contribution, Engagement

                ids = db.session.scalars(
                    sa.select(Contribution.id)
                    .join(Engagement, Engagement.id == Contribution.engagement_id)
                    .where(Engagement.pupil_id == pupil, Contribution.photo_key.is_not(None))
                ).all()
            for cid in ids:
                read_tried += 1
                for _ in range(30):  # a 503 says "busy, try again": a person would
                    status, _, body, _ = browser.request(
                        "GET", f"/family/photos/{cid}/photo", port=cluster.ports["web-b"]
                    )
                    if status != 503:
                        break
                    time.sleep(1)
                read_ok += status == 200 and body[:3] == b"\xff\xd8\xff"

        # Let the workers finish (the killed worker's job is requeued by the sweep), then count.
        deadline = time.monotonic() + 360  # a dead worker's job is retried after its heartbeat lapses
        figures = {}
        messages_done = None
        while True:
            figures = _figures(app, data, load)
            if messages_done is None and figures["messages_sent"] >= figures["messages_due"] > 0:
                messages_done = time.monotonic() - published
            settled = figures["messages_sent"] >= figures["messages_due"] and figures["exports_done"] == len(
                data["exports"]
            )
            if settled or time.monotonic() > deadline:
                break
            time.sleep(3)

        print()
        print("Hometime rehearsal" + f" (scale {args.scale:g}: {parents} parents, {carers} carers)")
        print(f"  requests served per host     {dict(balancer.served)}")
        print(
            f"  errors seen by clients       {dict(load.client_errors) or 0}  (balancer 502s: {dict(balancer.errors) or 0})"
        )
        print(f"  photos from host A read via B {read_ok} of {read_tried}")
        print(
            f"  lost ratings                 {figures['lost_ratings']}  (of {len(load.acknowledged_ratings)} acknowledged)"
        )
        print(
            f"  lost photos                  {figures['lost_photos']}  (of {len(load.acknowledged_photos)} acknowledged)"
        )
        print(
            f"  messages sent twice          {figures['twice']}  ({figures['messages_sent']} of {figures['messages_due']} topic messages sent)"
        )
        if messages_done:
            print(
                f"  topic messages               {figures['messages_sent']} sent within {messages_done:.0f} s of "
                "publishing (during the faults and the parents' load)"
            )
        print(f"  exports complete             {figures['exports_done']} of {len(data['exports'])}")
        with app.app_context():
            from datetime import timedelta

            from app.core import storage

            orphans = storage.sweep_orphans(timedelta(0))
            db.session.remove()
        times = sorted(load.seconds) or [0.0]
        p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"  orphan objects swept         {orphans}  (left by writes cut off mid-way; 0 is fine too)")
        print(
            f"  request time p50 / p95       {p50 * 1000:.0f} ms / {p95 * 1000:.0f} ms  ({load.requests} requests)"
        )
        print(f"  throughput, two hosts        {two_hosts:.1f} parents/s")
        print(f"  throughput, one host         {one_host:.1f} parents/s")
        print(f"  wall time                    {time.monotonic() - started:.0f} s")
        bad = (
            figures["lost_ratings"]
            or figures["lost_photos"]
            or figures["twice"]
            or read_ok != read_tried
            or figures["exports_done"] != len(data["exports"])
        )
        return 1 if bad else 0
    finally:
        if balancer is not None:
            balancer.shutdown()
        cluster.stop()
        if args.keep:
            say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _figures(app, data: dict, load: Load) -> dict:
    import sqlalchemy as sa

    from app.core import storage
    from app.core.extensions import db
    from app.models import Contribution, Engagement, NotificationDelivery, OutboxMessage

    with app.app_context():
        ratings = {
            (p, i): r
            for p, i, r in db.session.execute(
                sa.select(Engagement.pupil_id, Engagement.topic_activity_id, Engagement.rating)
            )
        }
        lost_ratings = sum(1 for p, i, r in load.acknowledged_ratings if ratings.get((p, i)) is None)
        photos = db.session.execute(
            sa.select(Engagement.pupil_id, Contribution.photo_key)
            .join(Engagement, Engagement.id == Contribution.engagement_id)
            .where(Contribution.photo_key.is_not(None))
        ).all()
        by_pupil = {p: k for p, k in photos}
        lost_photos = 0
        for pupil, _item, _host in load.acknowledged_photos:
            key = by_pupil.get(pupil)
            if key is None or not storage.exists(key):
                lost_photos += 1
        event = f"topic:{data['topic']}:"
        due = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(NotificationDelivery)
            .where(NotificationDelivery.event_key.startswith(event))
        )
        sent = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(NotificationDelivery)
            .where(
                NotificationDelivery.event_key.startswith(event), NotificationDelivery.sent_at.is_not(None)
            )
        )
        twice = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(OutboxMessage.to, OutboxMessage.subject)
                .group_by(OutboxMessage.to, OutboxMessage.subject, OutboxMessage.text)
                .having(sa.func.count() > 1)
                .subquery()
            )
        )
        exports_done = 0
        from app.dataprotection.exports.files import stored_keys
        from app.models import DataExport, ExportState

        for export in db.session.scalars(sa.select(DataExport).where(DataExport.id.in_(data["exports"]))):
            if export.state in (ExportState.READY, ExportState.REVIEW) and export.file_key:
                exports_done += all(storage.exists(k) for k in stored_keys(export.file_key))
        db.session.remove()
    return {
        "exports_done": exports_done,
        "lost_ratings": lost_ratings,
        "lost_photos": lost_photos,
        "messages_due": due or 0,
        "messages_sent": sent or 0,
        "twice": twice or 0,
    }


if __name__ == "__main__":
    sys.exit(main())
