"""Retention at scale (issue 6 budget): 100,000 parents, 1,000,000 engagement rows and 1,000,000
activity-log rows on PostgreSQL; the nightly run must take ≤ 30 s with peak memory ≤ 200 MB.

Seeded with set-based SQL (generate_series): 10% of the parents closed their account 100 days
ago (deleted by P17, their links and usage with them), half of the activity log is older than
the school's 365 days (P15), 2% of the pupils were removed by school and parents 100 days ago
(P20, with their engagement rows)."""
from __future__ import annotations

import resource
import time
from datetime import timedelta

import sqlalchemy as sa

AREA = "retention"
PARENTS, PUPILS, ITEMS, LOG = 100_000, 50_000, 20, 1_000_000


def _seed(db, now):
    old = now - timedelta(days=100)
    ancient = now - timedelta(days=500)
    ex = db.session.execute
    ex(sa.text("INSERT INTO organisations (id, kind, name, timezone, dpo_email, reminder_weekday,"
               " activity_log_days, closed_account_days, inactive_months, removed_child_days,"
               " created_at) VALUES (1, 'school', 'Bench', 'Europe/London', 'dpo@b.example', 2,"
               " 365, 90, 12, 90, :now)"), {"now": now})
    ex(sa.text("INSERT INTO classes (id, organisation_id, name, year_group, academic_year)"
               " VALUES (1, 1, 'Y3', '3', 2026)"))
    ex(sa.text("INSERT INTO users (kind, name, email, status, session_version, created_at,"
               " last_active_at, deactivated_at, email_notifications, sms_notifications,"
               " weekly_digest) SELECT 'parent', 'P' || g, 'p' || g || '@b.example',"
               " CASE WHEN g % 10 = 0 THEN 'deactivated' ELSE 'active' END, 1, :now, :now,"
               " CASE WHEN g % 10 = 0 THEN CAST(:old AS timestamptz) END, true, false, false"
               " FROM generate_series(1, :n) g"), {"now": now, "old": old, "n": PARENTS})
    ex(sa.text("INSERT INTO pupils (organisation_id, class_id, first_name, last_name, year_group,"
               " pupil_premium, source, created_at, removed_at) SELECT 1, 1, 'C' || g, 'B', '3',"
               " false, 'school', :now, CASE WHEN g % 50 = 0 THEN CAST(:old AS timestamptz) END"
               " FROM generate_series(1, :n) g"), {"now": now, "old": old, "n": PUPILS})
    ex(sa.text("INSERT INTO guardianships (parent_id, pupil_id, relationship_label, no_contact,"
               " source, created_at, removed_at, removed_by) SELECT u.id, p.id, 'Parent', false,"
               " 'school', :now, CASE WHEN p.id % 50 = 0 THEN CAST(:old AS timestamptz) END,"
               " CASE WHEN p.id % 50 = 0 THEN 'parent' END FROM pupils p"
               " JOIN users u ON u.id IN (2 * p.id - 1, 2 * p.id)"), {"now": now, "old": old})
    ex(sa.text("INSERT INTO topics (id, organisation_id, week_start, title, note, status, version,"
               " created_at) VALUES (1, 1, :day, 't', '', 'published', 1, :now)"),
       {"now": now, "day": now.date()})
    ex(sa.text("INSERT INTO activities (organisation_id, kind, title, instructions, subject,"
               " year_groups, created_at) SELECT 1, 'hands_on', 'a' || g, '', 's', '3', :now"
               " FROM generate_series(1, :n) g"), {"now": now, "n": ITEMS})
    ex(sa.text("INSERT INTO topic_activities (topic_id, activity_id, position)"
               " SELECT 1, id, id FROM activities"))
    ex(sa.text("INSERT INTO engagements (pupil_id, topic_activity_id, rating, done_at)"
               " SELECT p.id, t.id, 1 + (p.id % 5), :now FROM pupils p CROSS JOIN topic_activities t"),
       {"now": now})
    ex(sa.text("INSERT INTO activity_log (at, user_id, organisation_id, event)"
               " SELECT CASE WHEN g % 2 = 0 THEN CAST(:ancient AS timestamptz) ELSE :now END,"
               " NULL, 1, 'signin' FROM generate_series(1, :n) g"),
       {"now": now, "ancient": ancient, "n": LOG})
    db.session.commit()
    ex(sa.text("ANALYZE"))
    db.session.commit()


def run(app) -> list[dict]:
    from app.extensions import db
    from app.models import utcnow
    from app.services import retention

    with app.app_context():
        now = utcnow()
        _seed(db, now)
        counts = {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))
                  for t in ("users", "engagements", "activity_log")}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        done = retention.run_all(now.date())
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = [
        {"area": AREA, "measure": f"nightly run over {counts['users']:,} parents, "
                                  f"{counts['engagements']:,} engagements, "
                                  f"{counts['activity_log']:,} log rows",
         "value": round(seconds, 1), "unit": "s", "budget": 30},
        {"area": AREA, "measure": "peak memory of the process (ru_maxrss)",
         "value": round(peak / 1024), "unit": "MB", "budget": 200},
        {"area": AREA, "measure": "memory growth during the run", "value": round((peak - before) / 1024),
         "unit": "MB", "budget": None},
    ]
    rows += [{"area": AREA, "measure": f"rule {name}", "value": n, "unit": "rows", "budget": None}
             for name, n in done.items() if n]
    return rows
