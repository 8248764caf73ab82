"""Retention at scale (issue 6 budget): 100,000 parents, 1,000,000 engagement rows and 1,000,000
activity-log rows on PostgreSQL; the nightly run must take ≤ 30 s with peak memory ≤ 200 MB, and
its time must grow linearly.

The same run is measured at a quarter, half and the full size (the database emptied and seeded
again each time), smallest first; per size: rows, seconds, peak memory and microseconds per row.
Time grows linearly when the time per row stays the same: more than ``LINEAR_TOLERANCE`` per
cent more per row at the full size than at a quarter (4× the rows) is flagged. The verdict
reads CPU time (this process + the local PostgreSQL server, ``bench/probes.py``) when it can be
measured, since wall time stretches at random on a busy machine; wall time is shown beside it.

Seeded with set-based SQL (generate_series): 10% of the parents closed their account 100 days
ago (deleted by P17, their links and usage with them), half of the activity log is older than
the school's 365 days (P15), 2% of the pupils were removed by school and parents 100 days ago
(P20, with their engagement rows). VACUUM ANALYZE and a CHECKPOINT follow the load, so that
neither autovacuum nor a checkpoint starts inside the timed run."""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

AREA = "retention"
PARENTS, PUPILS, ITEMS, LOG = 100_000, 50_000, 20, 1_000_000
SIZES = ((0.25, "quarter size"), (0.5, "half size"), (1.0, "full size"))
LINEAR_TOLERANCE = 25  # per cent more time per row at the full size than at the smallest
SECONDS_BUDGET, MB_BUDGET = 30, 200


def _seed(db, now, scale: float) -> None:
    old = now - timedelta(days=100)
    ancient = now - timedelta(days=500)
    ex = db.session.execute
    ex(
        sa.text(
            "INSERT INTO organisations (id, kind, name, timezone, dpo_email, reminder_weekday,"
            " activity_log_days, closed_account_days, inactive_months, removed_child_days,"
            " created_at) VALUES (1, 'school', 'Bench', 'Europe/London', 'dpo@b.example', 2,"
            " 365, 90, 12, 90, :now)"
        ),
        {"now": now},
    )
    ex(
        sa.text(
            "INSERT INTO classes (id, organisation_id, name, year_group, academic_year)"
            " VALUES (1, 1, 'Y3', '3', 2026)"
        )
    )
    ex(
        sa.text(
            "INSERT INTO users (kind, name, email, status, session_version, created_at,"
            " last_active_at, deactivated_at, email_notifications, sms_notifications,"
            " weekly_digest) SELECT 'parent', 'P' || g, 'p' || g || '@b.example',"
            " CASE WHEN g % 10 = 0 THEN 'deactivated' ELSE 'active' END, 1, :now, :now,"
            " CASE WHEN g % 10 = 0 THEN CAST(:old AS timestamptz) END, true, false, false"
            " FROM generate_series(1, :n) g"
        ),
        {"now": now, "old": old, "n": int(PARENTS * scale)},
    )
    ex(
        sa.text(
            "INSERT INTO pupils (organisation_id, class_id, first_name, last_name, year_group,"
            " pupil_premium, source, created_at, removed_at) SELECT 1, 1, 'C' || g, 'B', '3',"
            " false, 'school', :now, CASE WHEN g % 50 = 0 THEN CAST(:old AS timestamptz) END"
            " FROM generate_series(1, :n) g"
        ),
        {"now": now, "old": old, "n": int(PUPILS * scale)},
    )
    ex(
        sa.text(
            "INSERT INTO guardianships (parent_id, pupil_id, relationship_label, no_contact,"
            " source, created_at, removed_at, removed_by) SELECT u.id, p.id, 'Parent', false,"
            " 'school', :now, CASE WHEN p.id % 50 = 0 THEN CAST(:old AS timestamptz) END,"
            " CASE WHEN p.id % 50 = 0 THEN 'parent' END FROM pupils p"
            " JOIN users u ON u.id IN (2 * p.id - 1, 2 * p.id)"
        ),
        {"now": now, "old": old},
    )
    ex(
        sa.text(
            "INSERT INTO topics (id, organisation_id, week_start, title, note, status, version,"
            " created_at) VALUES (1, 1, :day, 't', '', 'published', 1, :now)"
        ),
        {"now": now, "day": now.date()},
    )
    ex(
        sa.text(
            "INSERT INTO activities (organisation_id, kind, title, instructions, subject,"
            " year_groups, created_at) SELECT 1, 'hands_on', 'a' || g, '', 's', '3', :now"
            " FROM generate_series(1, :n) g"
        ),
        {"now": now, "n": ITEMS},
    )
    ex(
        sa.text(
            "INSERT INTO topic_activities (topic_id, activity_id, position) SELECT 1, id, id FROM activities"
        )
    )
    ex(
        sa.text(
            "INSERT INTO engagements (pupil_id, topic_activity_id, rating, done_at)"
            " SELECT p.id, t.id, 1 + (p.id % 5), :now"
            " FROM pupils p CROSS JOIN topic_activities t"
        ),
        {"now": now},
    )
    ex(
        sa.text(
            "INSERT INTO activity_log (at, user_id, organisation_id, event)"
            " SELECT CASE WHEN g % 2 = 0 THEN CAST(:ancient AS timestamptz) ELSE :now END,"
            " NULL, 1, 'signin' FROM generate_series(1, :n) g"
        ),
        {"now": now, "ancient": ancient, "n": int(LOG * scale)},
    )
    db.session.commit()
    _settle(db)


def _settle(db) -> None:
    """VACUUM ANALYZE and a CHECKPOINT after the bulk load, so that neither autovacuum nor the
    checkpointer starts on a million fresh rows inside the timed run (a school's tables have
    long been vacuumed by then). CHECKPOINT needs a privileged role: skipped without one."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        try:
            conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError:
            pass


def _empty(db) -> None:
    """Every table emptied and its ids restarted (the seed relies on ids counting from 1)."""
    db.session.remove()
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _measure(app, scale: float) -> dict:
    from app.core.extensions import db
    from app.dataprotection.retention import rules as retention
    from app.models import utcnow
    from bench import probes

    with app.app_context():
        _empty(db)
        now = utcnow()
        _seed(db, now, scale)
        counts = {
            t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("users", "engagements", "activity_log")
        }
        cpu = probes.cpu_clock(db)
        per_step = probes.restart_peak()
        before, _ = probes.memory_kb(per_step)
        cpu_started, started = cpu and cpu(), time.perf_counter()
        done = retention.run_all(now.date())
        seconds = time.perf_counter() - started
        cpu_seconds = cpu() - cpu_started if cpu else None
        _, peak = probes.memory_kb(per_step)
    return {
        "counts": counts,
        "rows": sum(counts.values()),
        "seconds": seconds,
        "cpu": cpu_seconds,
        "done": done,
        "peak_mb": round(peak / 1024),
        "growth_mb": round((peak - before) / 1024),
        "peak_kind": "during the run (VmHWM)" if per_step else "(ru_maxrss, whole process)",
    }


def _growth(per_row: list[float]) -> float:
    """How much (%) more time per row the largest size takes than the smallest."""
    return (per_row[-1] / per_row[0] - 1) * 100


def _spread(per_row: list[float]) -> float:
    """How far apart (%) the slowest and the fastest time per row are, over all sizes."""
    return (max(per_row) / min(per_row) - 1) * 100


def linearity(labels: list[str], wall: list[float], cpu: list[float] | None) -> tuple[str, float]:
    """Verdict text and the growth (%) of time per row from the smallest size to the largest.

    Judged on CPU time per row when measured (a busy machine stretches wall time at random),
    else on wall time; wall time is reported alongside."""
    basis, per_row = ("CPU", cpu) if cpu else ("wall", wall)
    growth, span = _growth(per_row), f"{labels[0]} to {labels[-1]}"
    if growth > LINEAR_TOLERANCE:
        text = f"WARNING NOT LINEAR: {basis} µs/row +{growth:.0f}% from {span}"
    elif growth < -LINEAR_TOLERANCE:
        text = f"linear or better: {basis} µs/row {growth:.0f}% from {span}"
    else:
        text = f"linear: {basis} µs/row {growth:+.0f}% from {span} (all sizes within {_spread(per_row):.0f}%)"
    if cpu:
        wall_growth = _growth(wall)
        text += f"; wall {wall_growth:+.0f}%"
        if wall_growth > LINEAR_TOLERANCE >= growth:
            text += " (busy machine?)"
    return text, growth


def _size_rows(label: str, r: dict, budgets: bool) -> list[dict]:
    c, rows = r["counts"], r["rows"]
    out = [
        {
            "area": AREA,
            "measure": f"{label}: nightly run over {c['users']:,} parents, "
            f"{c['engagements']:,} engagements, "
            f"{c['activity_log']:,} log rows",
            "value": round(r["seconds"], 1),
            "unit": "s",
            "budget": SECONDS_BUDGET if budgets else None,
        },
        {
            "area": AREA,
            "measure": f"{label}: peak memory of the process {r['peak_kind']}",
            "value": r["peak_mb"],
            "unit": "MB",
            "budget": MB_BUDGET if budgets else None,
        },
        {
            "area": AREA,
            "measure": f"{label}: wall time per row ({rows:,} rows)",
            "value": round(r["seconds"] / rows * 1e6, 2),
            "unit": "µs/row",
            "budget": None,
        },
    ]
    if r["cpu"] is not None:
        out.append(
            {
                "area": AREA,
                "measure": f"{label}: CPU time per row ({r['cpu']:.1f} s CPU, app + PostgreSQL)",
                "value": round(r["cpu"] / rows * 1e6, 2),
                "unit": "µs/row",
                "budget": None,
            }
        )
    return out


def run(app) -> list[dict]:
    results = [(label, _measure(app, scale)) for scale, label in SIZES]
    labels = [label for label, _ in results]
    wall = [r["seconds"] / r["rows"] for _, r in results]
    cpu = [r["cpu"] / r["rows"] for _, r in results] if all(r["cpu"] for _, r in results) else None
    rows: list[dict] = []
    for n, (label, r) in enumerate(results):
        rows += _size_rows(label, r, budgets=n == len(results) - 1)
    for n in range(len(results) - 1):
        measure = f"wall µs/row, {labels[-1]} ÷ {labels[n]}"
        if cpu:
            measure += f" (CPU µs/row: {cpu[-1] / cpu[n]:.2f}×)"
        rows.append(
            {
                "area": AREA,
                "measure": measure,
                "value": f"{wall[-1] / wall[n]:.2f}×",
                "unit": "",
                "budget": None,
            }
        )
    verdict, growth = linearity(labels, wall, cpu)
    rows.append(
        {
            "area": AREA,
            "measure": verdict,
            "value": round(growth, 1),
            "unit": "% growth",
            "budget": LINEAR_TOLERANCE,
        }
    )
    full_label, full = results[-1]
    rows.append(
        {
            "area": AREA,
            "measure": f"{full_label}: memory growth during the run",
            "value": full["growth_mb"],
            "unit": "MB",
            "budget": None,
        }
    )
    rows += [
        {"area": AREA, "measure": f"{full_label}: rule {name}", "value": n, "unit": "rows", "budget": None}
        for name, n in full["done"].items()
        if n
    ]
    return rows
