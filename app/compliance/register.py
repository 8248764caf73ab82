"""The register of processing (P30), generated from the data inventory so it cannot drift from
the code: one processing activity per table that holds personal data, with its purpose, the
categories of people and of data, the personal items and what each is for, who receives it, how
long it is kept and what erasure does; and the recipients with what each receives.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from app.core import csv_safe
from app.models.inventory import INVENTORY, RECIPIENTS, RETENTION

PEOPLE = {
    "parent": "Parents and carers",
    "staff": "School staff",
    "pupil": "Pupils",
    "requester": "People making data-protection requests",
    "nobody": "School contacts (data protection officers)",
}
COLUMNS = (
    "Processing activity",
    "Purpose",
    "Categories of people",
    "Categories of data",
    "Personal data and what it is for",
    "Recipients",
    "Retention",
    "On erasure",
)


@dataclass(frozen=True)
class Activity:
    """One processing activity of the register (one table of the inventory)."""

    table: str
    purpose: str
    people: tuple[str, ...]
    data_categories: tuple[str, ...]
    items: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: str
    erasure: str

    def row(self) -> list[str]:
        """The activity as a CSV row (lists one item per line of the cell)."""
        return [
            self.table,
            self.purpose,
            "\n".join(self.people),
            "\n".join(self.data_categories),
            "\n".join(self.items),
            "\n".join(self.recipients),
            self.retention,
            self.erasure,
        ]


def recipient_name(key: str) -> str:
    """A recipient's name: its inventory text up to the colon."""
    return RECIPIENTS[key].split(":", 1)[0]


def people(subject: str) -> tuple[str, ...]:
    """ "parent or staff" → ("Parents and carers", "School staff")."""
    return tuple(PEOPLE[word] for word in re.split(r" or | and ", subject))


def activities() -> list[Activity]:
    """Every table that holds personal data, as a processing activity, in inventory order."""
    found = []
    for table, entry in INVENTORY.items():
        if not entry.personal and entry.subject == "nobody":
            continue
        categories = tuple(dict.fromkeys(col.category.value for col in entry.personal.values()))
        items = tuple(
            f"{name.replace('_', ' ')}: {col.purpose} (on erasure: {col.erasure.value})"
            for name, col in entry.personal.items()
        )
        found.append(
            Activity(
                table,
                entry.purpose,
                people(entry.subject),
                categories,
                items,
                tuple(recipient_name(r) for r in entry.recipients),
                RETENTION[entry.retention],
                entry.erasure.value,
            )
        )
    return found


def recipients() -> list[dict]:
    """Each recipient: what it receives, and for which activities."""
    return [
        {
            "name": recipient_name(key),
            "receives": RECIPIENTS[key].split(":", 1)[1].strip(),
            "activities": [
                t
                for t, e in INVENTORY.items()
                if key in e.recipients and (e.personal or e.subject != "nobody")
            ],
        }
        for key in RECIPIENTS
    ]


def csv_text() -> str:
    """The register as CSV: a header row, then one row per processing activity."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(activity.row() for activity in activities())
    return out.getvalue()
