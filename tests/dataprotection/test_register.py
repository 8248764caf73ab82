"""The register of processing (P30): generated from the data inventory, as a page and a CSV."""

from __future__ import annotations

import csv
import io

import pytest

from app.compliance import register
from app.models import Role
from app.models.inventory import INVENTORY, RECIPIENTS, RETENTION
from tests import factories as f

pytestmark = pytest.mark.promise("P30")


def _expected_rows() -> dict[str, dict]:
    """What the inventory says, read independently of the register's own code."""
    rows = {}
    for table, entry in INVENTORY.items():
        if not entry.personal and entry.subject == "nobody":
            continue
        rows[table] = {
            "Purpose": entry.purpose,
            "Retention": RETENTION[entry.retention],
            "Recipients": {RECIPIENTS[r].split(":")[0] for r in entry.recipients},
            "Categories of data": {c.category.value for c in entry.personal.values()},
            "Items": set(entry.personal),
        }
    return rows


def test_the_csv_is_the_inventory():
    rows = list(csv.DictReader(io.StringIO(register.csv_text())))
    expected = _expected_rows()
    assert [r["Processing activity"] for r in rows] == list(expected)
    for row in rows:
        want = expected[row["Processing activity"]]
        assert row["Purpose"] == want["Purpose"]
        assert row["Retention"] == want["Retention"]
        assert set(filter(None, row["Recipients"].split("\n"))) == want["Recipients"]
        categories = set(filter(None, row["Categories of data"].split("\n")))
        assert categories == want["Categories of data"]
        items = {
            item.split(":")[0].replace(" ", "_")
            for item in filter(None, row["Personal data and what it is for"].split("\n"))
        }
        assert items == want["Items"]
        assert row["Categories of people"]
    # The tables of children's and families' data are all there.
    assert {"users", "pupils", "contributions", "consent_records", "activity_log"} <= set(expected)


def test_the_office_sees_the_register_and_downloads_it(client):
    org = f.school(name="Oak Primary")
    office = f.staff(org, Role.OFFICE)
    f.login(client, office)
    page = client.get("/office/register")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for what in RECIPIENTS.values():
        assert what.split(":")[0] in text  # SendGrid, Twilio, hosting, and what each receives
    assert "Twilio SendGrid (email delivery)" in text and "mobile numbers" in text
    for activity in register.activities():
        assert f'id="{activity.table}"' in text
    download = client.get("/office/register.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.get_data(as_text=True) == register.csv_text()
    f.login(client, f.staff(org, Role.TEACHER))
    assert client.get("/office/register.csv").status_code == 403
    f.login(client, f.parent())
    assert client.get("/office/register").status_code == 403
