"""Roster import budget (issue 3): a 5,000-pupil / 9,000-contact CSV previews in ≤ 10 s and
commits in ≤ 10 s on PostgreSQL, with peak memory ≤ 200 MB.

The file is generated (a SIMS-like export: 40 classes, 4,000 pupils with two contacts and 1,000
with one, plus three columns that are ignored). The office's requests are timed through the real
routes (upload → preview page, confirm → redirect) in a fresh subprocess, so its peak resident
memory (VmHWM) is the whole process: Python, Flask, SQLAlchemy and the import together.
A second preview of the same file (everything unchanged) and the commit of a re-import that
renames every pupil and contact (the update path) are timed too.

    python -m bench roster
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUPILS, CLASSES = 5000, 40
LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upn(n: int) -> str:
    body = f"801{2000 + n // 1000:04d}26{n % 1000:03d}"
    return LETTERS[sum(w * int(d) for w, d in enumerate(body, 2)) % 23] + body


def make_csv(pupils: int = PUPILS, *, renamed: bool = False) -> tuple[bytes, int]:
    """The generated file and its number of contacts (``renamed``: every name changed)."""
    new = "New" if renamed else ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "UPN",
            "Legal Forename",
            "Legal Surname",
            "Date of Birth",
            "Reg Group",
            "Year",
            "Pupil Premium Indicator",
            "Ethnicity",
            "Primary Contact Name",
            "Primary Contact Email",
            "Primary Contact Mobile",
            "Primary Contact Relationship",
            "Secondary Contact Name",
            "Secondary Contact Email",
            "Secondary Contact Mobile",
            "Secondary Contact Relationship",
            "Home Address",
        ]
    )
    contacts = 0
    for n in range(pupils):
        row = [
            _upn(n),
            f"{new}Child{n}",
            f"Family{n}",
            "2019-09-01",
            f"C{n % CLASSES:02d}",
            f"Year {n % 6 + 1}",
            "Y" if n % 4 == 0 else "N",
            "Not given",
            f"{new}Parent A{n}",
            f"a{n}@family.example",
            f"07400 {n:06d}",
            "Mother",
        ]
        contacts += 1
        if n % 5:
            row += [f"{new}Parent B{n}", f"b{n}@family.example", f"07500 {n:06d}", "Father"]
            contacts += 1
        else:
            row += ["", "", "", ""]
        writer.writerow(row + [f"{n} Some Street"])
    return out.getvalue().encode(), contacts


def _memory_mb(field: str = "VmHWM") -> float | None:
    """This process's peak (VmHWM) or current (VmRSS) resident memory, from its own memory map
    (``ru_maxrss`` would also count the parent's size at fork: Linux keeps it across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Start VmHWM again from the current size (Linux), so the import's own peak is seen."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _child(db_url: str, redis_url: str, source: str, renamed_source: str) -> None:
    """Runs in the subprocess: time the office's requests, print the figures as one JSON line."""
    import sqlalchemy as sa

    from app import create_app
    from app.core.extensions import db
    from app.demo import academic_year
    from app.models import Organisation, Role, SchoolClass, StaffMembership, User, UserKind
    from tests.factories import login

    app = create_app(
        {
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        org = Organisation(name="Bench Primary", dpo_email="dpo@school.example")
        db.session.add(org)
        db.session.flush()
        db.session.add_all(
            SchoolClass(
                organisation_id=org.id, name=f"C{i:02d}", year_group="1", academic_year=academic_year()
            )
            for i in range(CLASSES)
        )
        office = User(kind=UserKind.STAFF, name="Office", email="office@school.example")
        office.memberships.append(StaffMembership(organisation_id=org.id, role=Role.OFFICE))
        db.session.add(office)
        db.session.commit()
        client = app.test_client()
        login(client, office)
        db.session.remove()

    def preview(data: bytes):
        started = time.perf_counter()
        page = client.post(
            "/office/roster/preview",
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(data), "pupils.csv")},
        )
        took = time.perf_counter() - started
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        token = html.split('name="upload" type="hidden" value="', 1)[1].split('"', 1)[0]
        return took, token

    def confirm(token: str) -> float:
        started = time.perf_counter()
        done = client.post("/office/roster/confirm", data={"upload": token})
        assert done.status_code == 303, done.status_code
        return time.perf_counter() - started

    started_peak = _memory_mb()
    base = _memory_mb("VmRSS") if _reset_peak() else None
    preview_s, token = preview(Path(source).read_bytes())
    commit_s = confirm(token)
    again_s, _ = preview(Path(source).read_bytes())
    _, token = preview(Path(renamed_source).read_bytes())
    update_s = confirm(token)
    peak = _memory_mb()
    with app.app_context():
        counts = [
            db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("pupils", "guardianships")
        ]
    print(
        json.dumps(
            {
                "preview": preview_s,
                "commit": commit_s,
                "again": again_s,
                "update": update_s,
                "peak_mb": max(peak or 0, started_peak or 0),
                "import_peak_mb": peak,
                "base_mb": base,
                "pupils": counts[0],
                "links": counts[1],
            }
        )
    )


def run(app) -> list[dict]:
    """Time preview and commit of the generated file against ``app``'s PostgreSQL and Redis."""
    data, contacts = make_csv()
    with tempfile.TemporaryDirectory(prefix="hometime-roster-") as workdir:
        source, renamed = (os.path.join(workdir, name) for name in ("pupils.csv", "renamed.csv"))
        Path(source).write_bytes(data)
        Path(renamed).write_bytes(make_csv(renamed=True)[0])
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from bench.bench_roster import _child; _child(*sys.argv[1:])",
                app.config["SQLALCHEMY_DATABASE_URI"],
                app.config["REDIS_URL"],
                source,
                renamed,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["pupils"] == PUPILS and figures["links"] == contacts, figures
    size = f"{PUPILS:,} pupils / {contacts:,} contacts, {len(data) / 1e6:.1f} MB"
    return [
        {
            "area": "roster",
            "measure": f"preview ({size})",
            "value": figures["preview"],
            "unit": "s",
            "budget": 10,
        },
        {
            "area": "roster",
            "measure": "commit (one transaction, PostgreSQL)",
            "value": figures["commit"],
            "unit": "s",
            "budget": 10,
        },
        {
            "area": "roster",
            "measure": "preview again (all unchanged)",
            "value": figures["again"],
            "unit": "s",
            "budget": 10,
        },
        {
            "area": "roster",
            "measure": "commit of a re-import renaming every pupil and contact",
            "value": figures["update"],
            "unit": "s",
            "budget": 10,
        },
        {
            "area": "roster",
            "measure": "peak memory of the whole process, app start included",
            "value": figures["peak_mb"],
            "unit": "MB",
            "budget": 200,
        },
        {
            "area": "roster",
            "measure": "peak memory while importing (app idle: "
            + (f"{figures['base_mb']:.0f} MB)" if figures["base_mb"] else "not measured)"),
            "value": figures["import_peak_mb"] if figures["base_mb"] else None,
            "unit": "MB",
            "budget": 200,
        },
    ]


if __name__ == "__main__":
    from bench.__main__ import table
    from bench.env import bench_app

    with bench_app() as bench:
        print(table(run(bench)))
