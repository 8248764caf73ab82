"""Helpers for the roster tests: valid UPNs, CSV bytes, uploading through the office pages."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from app.core.extensions import db
from app.demo import academic_year
from app.families.roster_csv import template_headings
from app.models import Guardianship, Pupil, Role, User, UserKind
from tests import factories

LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def upn(n: int, la: int = 801, school: int = 2000) -> str:
    """A UPN with a correct DfE check letter (weights 2–13 on characters 2–13, modulo 23)."""
    body = f"{la:03d}{school:04d}{n // 1000 % 100:02d}{n % 1000:03d}"
    total = sum(w * int(d) for w, d in enumerate(body, 2))
    return LETTERS[total % 23] + body


def csv_bytes(
    rows: list[list[str]], headings: list[str] | None = None, *, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headings or template_headings())
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def template_row(
    n: int,
    cls: str,
    *,
    first: str | None = None,
    last: str = "Pupil",
    year: str = "1",
    pp: str = "No",
    contacts=(),
) -> list[str]:
    """A row in the template's column order; ``contacts`` are (name, email, mobile, rel, no)."""
    row = [upn(n), first or f"Child{n}", last, cls, year, pp]
    for i in range(3):
        row += list(contacts[i]) if i < len(contacts) else ["", "", "", "", ""]
    return row


def school_setup(*class_names: str):
    """A school with classes this academic year and a signed-in-able office member."""
    org = factories.school()
    classes = [
        factories.school_class(org, name=name, academic_year=academic_year())
        for name in class_names or ("Oak",)
    ]
    office = factories.staff(org, Role.OFFICE)
    return org, classes, office


def upload(client, data: bytes, filename: str = "pupils.csv"):
    return client.post(
        "/office/roster/preview",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def upload_id(html: str) -> str:
    found = re.search(r'name="upload" type="hidden" value="([^"]+)"', html)
    assert found, "no confirm form on the page"
    return found.group(1)


def import_file(client, data: bytes):
    """Upload, check the preview is clean, confirm; return the result page response."""
    preview = upload(client, data)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    done = client.post("/office/roster/confirm", data={"upload": upload_id(preview.get_data(True))})
    assert done.status_code == 303
    return client.get(done.headers["Location"])


def counts() -> tuple[int, int, int]:
    """(pupils, parent accounts, links) in the database."""

    def n(model, *where):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return n(Pupil), n(User, User.kind == UserKind.PARENT), n(Guardianship)
