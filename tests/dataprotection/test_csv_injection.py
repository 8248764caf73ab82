"""No CSV the app produces can run as a spreadsheet formula (OWASP CSV injection): a parent's
comment, a pupil's name and a carer's name that look like formulas are written as text."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import sqlalchemy as sa

from app.core import csv_safe
from app.core.extensions import db
from app.dataprotection.requests import intake
from app.models import DataExport, Pupil, TopicStatus, User
from tests import factories as f
from tests import teaching as t
from tests.privacy_data import in_progress
from tests.roster_helpers import csv_bytes, import_file, school_setup, template_row

FORMULA = '=HYPERLINK("http://x","y")'
CARER = '@SUM(1+1)*cmd|"/C calc"!A0'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def _cells(rows):
    return [cell for row in rows for cell in row]


def _export_zip(client, office, run_jobs, req) -> zipfile.ZipFile:
    """The office starts the export, the worker builds it, the office downloads it."""
    in_progress(req.id, office)
    f.login(client, office)
    assert client.post(f"/office/requests/{req.id}/export").status_code == 303
    assert run_jobs() == 0
    export_id = db.session.scalar(sa.select(DataExport.id).where(DataExport.request_id == req.id))
    r = client.get(f"/office/exports/{export_id}/download")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.get_data()))


def test_helper_quotes_text_that_starts_a_formula_and_leaves_numbers():
    for start in DANGEROUS:
        assert csv_safe.safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_safe.safe_cell("Ada") == "Ada" and csv_safe.safe_cell("") == ""
    assert csv_safe.safe_cell(-3) == -3 and csv_safe.safe_cell(None) is None
    out = io.StringIO()
    csv_safe.writer(out).writerow([FORMULA, -3, "fine"])
    assert _rows(out.getvalue()) == [["'" + FORMULA, "-3", "fine"]]


def test_every_csv_writer_in_the_app_goes_through_the_one_helper():
    root = Path(__file__).resolve().parents[2] / "app"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "csv_safe.py" and re.search(r"csv\.(writer|DictWriter)\b", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_cell_of_any_csv_download_starts_a_formula(client, run_jobs):
    org, [oak], office = school_setup("Oak")
    f.login(client, office)
    carer_email = "carer@family.example"
    import_file(
        client,
        csv_bytes([template_row(1, "Oak", first=FORMULA, contacts=[(CARER, carer_email, "", "Mother", "")])]),
    )
    pupil = db.session.scalar(sa.select(Pupil).where(Pupil.organisation_id == org.id))
    carer = db.session.scalar(sa.select(User).where(User.email == carer_email))
    assert pupil.first_name == FORMULA and carer.name == CARER  # stored as typed
    item = t.topic(org, [oak], [t.activity(org)], week=t.next_monday(-1), status=TopicStatus.PUBLISHED).items[
        0
    ]
    f.login(client, carer)
    sent = client.post(f"/family/children/{pupil.id}/items/{item.id}/send", data={"comment": FORMULA})
    assert sent.status_code == 303

    produced: dict[str, list[list[str]]] = {}
    f.login(client, office)
    for path in ("/office/register.csv", "/office/roster/template.csv"):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == "text/csv"
        produced[path] = _rows(r.get_data(as_text=True))
    about_child = intake.request_as_parent(carer, kind="access", pupil_id=pupil.id, organisation_id=org.id)
    about_carer = intake.request_as_parent(carer, kind="portability", organisation_id=org.id)
    for req in (about_child, about_carer):
        zf = _export_zip(client, office, run_jobs, req)
        for name in zf.namelist():
            if name.endswith(".csv"):
                produced[f"R{req.id}/{name}"] = _rows(zf.read(name).decode("utf-8-sig"))

    assert len(produced) > 4
    for name, rows in produced.items():
        bad = [cell for cell in _cells(rows) if cell.startswith(DANGEROUS)]
        assert bad == [], name
    # The formulas are there, as text: the comment, the child's name and the carer's name.
    child_cells = _cells(produced[f"R{about_child.id}/pupils.csv"])
    assert "'" + FORMULA in child_cells
    assert "'" + FORMULA in _cells(produced[f"R{about_child.id}/contributions.csv"])
    assert "'" + CARER in _cells(produced[f"R{about_carer.id}/users.csv"])
