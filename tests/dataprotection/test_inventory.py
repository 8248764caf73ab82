"""The data inventory declares every column of every table (GUIDE.md, P30)."""

import pytest

from app.core.extensions import db
from app.models.inventory import INVENTORY, RECIPIENTS, RETENTION, declared_columns


def test_every_column_is_declared_once():
    import app.models  # noqa: F401 - registers every table

    problems = []
    for table in db.metadata.sorted_tables:
        if table.name not in INVENTORY:
            problems.append(f"table {table.name} is not in the inventory")
            continue
        actual = {c.name for c in table.columns}
        entry = INVENTORY[table.name]
        both = set(entry.personal) & set(entry.plain)
        problems += [f"{table.name}.{c} is declared twice" for c in sorted(both)]
        problems += [
            f"{table.name}.{c} is not declared" for c in sorted(actual - declared_columns(table.name))
        ]
        problems += [
            f"{table.name}.{c} is declared but no such column"
            for c in sorted(declared_columns(table.name) - actual)
        ]
    problems += [f"inventory table {t} has no model" for t in INVENTORY if t not in db.metadata.tables]
    assert problems == []


@pytest.mark.promise("P03")
def test_only_the_listed_kinds_of_personal_data_exist():
    """P03: the personal fields are exactly the notice's list (contact, pupil record, content,
    usage and security); everything else is declared as holding nothing personal."""
    personal = {(t, c) for t, e in INVENTORY.items() for c in e.personal}
    assert ("pupils", "upn") in personal and ("pupils", "pupil_premium") in personal
    assert ("users", "mobile") in personal and ("contributions", "photo_key") in personal
    # Nothing like a date of birth, address, ethnicity or health field exists anywhere.
    forbidden = ("birth", "address", "ethnic", "religion", "health", "medical", "gender", "dob")
    columns = [f"{t}.{c}" for t, e in INVENTORY.items() for c in (*e.personal, *e.plain)]
    assert [c for c in columns if any(word in c for word in forbidden)] == []


def test_every_table_names_a_known_retention_rule_and_recipients():
    for name, entry in INVENTORY.items():
        assert entry.retention in RETENTION, name
        assert set(entry.recipients) <= set(RECIPIENTS), name
