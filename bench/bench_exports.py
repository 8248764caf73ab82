"""Access export budget (issue 7): a family with 2 children, 3 years of weekly home learning
(about 6 activities a week each) and 150 photos exports in ≤ 20 s in the worker, with peak memory
≤ 250 MB.

The family is generated on PostgreSQL: two children in two classes (with classmates, so the
other-children check has names to look for), 156 weekly topics per class of 6 activities, every
activity done and rated, a comment most weeks, 150 photos of about 250 KB (noise JPEGs, which
compress like camera pictures, near the photo pipeline's 300 KB target) stored encrypted through
``storage.put``, awards, usage and consents. The parent's own access request (everything of the
family's) is queued, and a real RQ worker in a fresh subprocess builds it: the job's time is the
build, and ``ru_maxrss`` is that worker's whole peak resident memory (Python, Flask, SQLAlchemy,
the zip and the encryption together).

    python -m bench exports
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEEKS, PER_WEEK, PHOTOS, PHOTO_SIDE = 156, 6, 150, (1000, 750)


def _jpeg(seed: int) -> bytes:
    from PIL import Image, ImageChops

    noise = Image.effect_noise(PHOTO_SIDE, 40 + seed % 7)
    picture = Image.merge(
        "RGB", [ImageChops.add(noise, Image.linear_gradient("L").resize(PHOTO_SIDE), 2, -64)] * 3
    )
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=60)
    return out.getvalue()


def seed(app) -> dict:
    """The family, their school and three years of home learning; returns the export's id."""
    import sqlalchemy as sa

    from app.core import storage
    from app.core.extensions import db
    from app.models import (
        Activity,
        ActivityKind,
        Award,
        AwardKind,
        Contribution,
        ContributionKind,
        DataExport,
        Engagement,
        Guardianship,
        Organisation,
        PrivacyRequest,
        Pupil,
        RequestChannel,
        RequestKind,
        RequestState,
        SchoolClass,
        TopicActivity,
        TopicStatus,
        UsageEvent,
        UsageKind,
        User,
        UserKind,
        WeeklyTopic,
        topic_classes,
        utcnow,
    )

    with app.app_context():
        org = Organisation(name="Bench Primary", dpo_email="dpo@bench.example")
        db.session.add(org)
        db.session.flush()
        classes = [
            SchoolClass(organisation_id=org.id, name=n, year_group=y, academic_year=2026)
            for n, y in (("Robins", "2"), ("Owls", "5"))
        ]
        parent = User(kind=UserKind.PARENT, name="Bench Parent", email="parent@bench.example")
        db.session.add_all([*classes, parent])
        db.session.flush()
        children = [
            Pupil(
                organisation_id=org.id,
                class_id=c.id,
                year_group=c.year_group,
                first_name=n,
                last_name="Bench",
            )
            for c, n in zip(classes, ("Ada", "Ben"), strict=True)
        ]
        mates = [
            Pupil(
                organisation_id=org.id,
                class_id=classes[i % 2].id,
                year_group="2",
                first_name=f"Mate{i}",
                last_name="Other",
            )
            for i in range(50)
        ]
        db.session.add_all(children + mates)
        db.session.flush()
        db.session.add_all(Guardianship(parent_id=parent.id, pupil_id=c.id) for c in children)
        activities = [
            Activity(
                organisation_id=org.id,
                kind=ActivityKind.HANDS_ON,
                title=f"Activity {i}",
                subject="Number",
                year_groups="2,5",
            )
            for i in range(40)
        ]
        db.session.add_all(activities)
        db.session.flush()
        start = date(2023, 9, 4)
        items_by_child = {c.id: [] for c in children}
        for cls, child in zip(classes, children, strict=True):
            topics = [
                WeeklyTopic(
                    organisation_id=org.id,
                    week_start=start + timedelta(weeks=w),
                    title=f"Week {w}",
                    status=TopicStatus.PUBLISHED,
                    published_at=utcnow(),
                )
                for w in range(WEEKS)
            ]
            db.session.add_all(topics)
            db.session.flush()
            db.session.execute(
                sa.insert(topic_classes), [{"topic_id": t.id, "class_id": cls.id} for t in topics]
            )
            rows = db.session.execute(
                sa.insert(TopicActivity).returning(TopicActivity.id),
                [
                    {"topic_id": t.id, "activity_id": activities[(w * PER_WEEK + i) % 40].id, "position": i}
                    for w, t in enumerate(topics)
                    for i in range(PER_WEEK)
                ],
            ).all()
            items_by_child[child.id] = [r.id for r in rows]
        engagements = []
        for child in children:
            engagements += db.session.execute(
                sa.insert(Engagement).returning(Engagement.id),
                [
                    {
                        "pupil_id": child.id,
                        "topic_activity_id": item,
                        "done_by_id": parent.id,
                        "rating": 1 + n % 5,
                        "done_at": utcnow(),
                    }
                    for n, item in enumerate(items_by_child[child.id])
                ],
            ).all()
        ids = [e.id for e in engagements]
        comments = [
            {
                "engagement_id": e,
                "author_id": parent.id,
                "kind": ContributionKind.COMMENT,
                "body": f"We did this together{' with Mate3' if n % 20 == 0 else ''}, "
                "lots of fun and counting.",
            }
            for n, e in enumerate(ids[::PER_WEEK])
        ]
        db.session.execute(sa.insert(Contribution), comments)
        photos, photo_bytes = [], 0
        for n in range(PHOTOS):
            data = _jpeg(n)
            photo_bytes += len(data)
            photos.append(
                {
                    "engagement_id": ids[1 + n * 12],
                    "author_id": parent.id,
                    "kind": ContributionKind.PHOTO,
                    "photo_key": storage.put(data, prefix="photo"),
                    "thumb_key": storage.put(data[:2000], prefix="thumb"),
                    "shows_other_children": n % 30 == 0,
                }
            )
        db.session.execute(sa.insert(Contribution), photos)
        db.session.add_all(
            Award(pupil_id=c.id, kind=AwardKind.GREAT_EFFORT, note="Well done")
            for c in children
            for _ in range(10)
        )
        db.session.add_all(
            UsageEvent(user_id=parent.id, pupil_id=c.id, kind=UsageKind.ACTIVITY_OPENED)
            for c in children
            for _ in range(300)
        )
        req = PrivacyRequest(
            organisation_id=org.id,
            kind=RequestKind.ACCESS,
            state=RequestState.IN_PROGRESS,
            channel=RequestChannel.WEB,
            requester_id=parent.id,
            requester_name=parent.name,
            requester_email=parent.email,
            on_behalf_of="self",
            received_on=date.today(),
            paused_days=0,
            extension_months=0,
        )
        db.session.add(req)
        db.session.flush()
        export = DataExport(request_id=req.id, download_count=0)
        db.session.add(export)
        db.session.commit()
        return {
            "export_id": export.id,
            "engagements": len(ids),
            "comments": len(comments),
            "photo_mb": photo_bytes / 1024 / 1024,
        }


def _rss_kib() -> int:
    """The process's current resident memory (VmRSS), in KiB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def _child(config_json: str, export_id: str) -> None:
    """Runs in the subprocess: a real RQ worker builds the export; prints figures as JSON."""
    import resource

    from rq import SimpleWorker

    from app import create_app
    from app.core.extensions import db
    from app.core.jobs import enqueue_now, set_worker_app
    from app.core.redis_conn import get_redis
    from app.dataprotection.exports import service as exports
    from app.models import DataExport

    app = create_app(json.loads(config_json))
    set_worker_app(app)
    with app.app_context():
        job = enqueue_now(
            "app.dataprotection.exports.jobs.build_export", int(export_id), job_id="bench-export"
        )
        before = _rss_kib()
    started = time.perf_counter()
    SimpleWorker(["default"], connection=get_redis(app)).work(burst=True, with_scheduler=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    job.refresh()
    with app.app_context():
        export = db.session.get(DataExport, int(export_id))
        size = exports.manifest(export.file_key)["size"] if export.file_key else 0
        state = export.state.value
    run = (job.ended_at - job.started_at).total_seconds() if job.ended_at else None
    print(
        json.dumps(
            {
                "state": state,
                "job": run,
                "wall": elapsed,
                "size": size,
                "rss_before": before * 1024,
                "rss_peak": peak * 1024,
                "status": job.get_status(),
            }
        )
    )


def _review_page(app, export_id: int, runs: int = 5) -> tuple[float, int]:
    """The office's review page of the built export (every item of the family, the flagged ones
    to decide): its median server time in ms over ``runs`` requests, and its status."""
    import statistics

    import sqlalchemy as sa

    from app.core.extensions import db
    from app.models import DataExport, Organisation, PrivacyRequest, Role
    from tests import factories as f

    with app.app_context():
        org_id = db.session.scalar(
            sa.select(PrivacyRequest.organisation_id)
            .join(DataExport, DataExport.request_id == PrivacyRequest.id)
            .where(DataExport.id == export_id)
        )
        office = f.staff(db.session.get(Organisation, org_id), Role.OFFICE)
        client = app.test_client()
        f.login(client, office)  # with its own server-side sign-in record, as a real sign-in
        db.session.remove()
    status = client.get(f"/office/exports/{export_id}").status_code  # warm-up
    if status != 200:  # a redirect (to sign in) would be timed instead of the page
        raise RuntimeError(f"the review page answered HTTP {status}, not the page")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(f"/office/exports/{export_id}")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), status


def run(app) -> list[dict]:
    """Seed the family, then build its export in a worker subprocess and measure it."""
    made = seed(app)
    config = {
        key: app.config[key]
        for key in ("ENV_NAME", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "STORAGE_DIR", "ENCRYPTION_KEYS")
    }
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # A freshly exec'd process inherits its parent's peak RSS on Linux: start the worker from a
    # small launcher so its ru_maxrss is its own.
    launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            launcher,
            sys.executable,
            "-m",
            "bench.bench_exports",
            "--child",
            json.dumps(config),
            str(made["export_id"]),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    f = json.loads(done.stdout.strip().splitlines()[-1])
    review_ms, review_status = _review_page(app, made["export_id"])
    mb = 1024 * 1024

    def row(measure, value, unit, budget=None):
        return {"area": "exports", "measure": measure, "value": value, "unit": unit, "budget": budget}

    return [
        row(
            f"family: {made['engagements']} activities done, {made['comments']} comments, "
            f"photos (export {f['state']})",
            PHOTOS,
            "photos",
        ),
        row("photos stored (encrypted)", round(made["photo_mb"], 1), "MB"),
        row("export zip size", round(f["size"] / mb, 1), "MB"),
        row("build time of the job in the worker", round(f["job"] or f["wall"], 2), "s", 20),
        row("peak memory of the worker process (ru_maxrss)", round(f["rss_peak"] / mb, 1), "MB", 250),
        row(
            f"office review page of this copy (HTTP {review_status}): median server time",
            round(review_ms, 1),
            "ms",
            1000,
        ),
        row(
            "peak memory above the worker's resident memory before the job",
            round((f["rss_peak"] - f["rss_before"]) / mb, 1),
            "MB",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        from bench.env import bench_app

        with bench_app() as bench:
            for r in run(bench):
                print(r)
