"""Words for the keys in an export, and spotting other families' data in it (P22).

An export shows "you", "another carer" or "school staff" instead of a person's number, the
child's name instead of theirs, a class's or activity's name instead of its number, loaded a
batch of rows at a time. It also finds what the office must look at before release: a comment
or an award note naming another child of the class (first names as whole words), and a photo
flagged as showing other children.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.common.ownership import t
from app.models import (
    Activity,
    Engagement,
    Guardianship,
    Organisation,
    PrivacyNotice,
    Pupil,
    SchoolClass,
    TopicActivity,
    Trust,
    User,
    UserKind,
    WeeklyTopic,
)

TEXT_TO_CHECK = {"contributions": "body", "awards": "note"}
REDACTED = "[name removed]"


def _users(ids, labels):
    rows = db.session.execute(sa.select(User.id, User.kind).where(User.id.in_(ids)))
    return {
        i: "you" if i in labels.me else "school staff" if kind is UserKind.STAFF else "another carer"
        for i, kind in rows
    }


def _pupils(ids, labels):
    rows = db.session.execute(
        sa.select(Pupil.id, Pupil.first_name, Pupil.last_name, Pupil.erased_at).where(Pupil.id.in_(ids))
    )
    return {
        i: ("a child whose record was erased" if erased else f"{first} {last}".strip())
        if i in labels.family
        else "another child"
        for i, first, last, erased in rows
    }


def _classes(ids, labels):
    rows = db.session.execute(
        sa.select(SchoolClass.id, SchoolClass.name, SchoolClass.academic_year).where(SchoolClass.id.in_(ids))
    )
    return {i: f"{name} ({year}-{(year + 1) % 100:02d})" for i, name, year in rows}


def _topic_activities(ids, labels):
    rows = db.session.execute(
        sa.select(TopicActivity.id, Activity.title, WeeklyTopic.title, WeeklyTopic.week_start)
        .join(Activity, Activity.id == TopicActivity.activity_id)
        .join(WeeklyTopic, WeeklyTopic.id == TopicActivity.topic_id)
        .where(TopicActivity.id.in_(ids))
    )
    return {i: f"{activity} ({topic}, week of {week.day} {week:%b %Y})" for i, activity, topic, week in rows}


def _simple(column_id, column_label, fmt="{}"):
    def load(ids, labels):
        rows = db.session.execute(sa.select(column_id, column_label).where(column_id.in_(ids)))
        return {i: fmt.format(label) for i, label in rows}

    return load


LOADERS = {
    "users": _users,
    "pupils": _pupils,
    "classes": _classes,
    "topic_activities": _topic_activities,
    "organisations": _simple(Organisation.id, Organisation.name),
    "activities": _simple(Activity.id, Activity.title),
    "privacy_notices": _simple(PrivacyNotice.id, PrivacyNotice.version, "version {}"),
    "trusts": _simple(Trust.id, Trust.name),
}


def whole_words(names) -> re.Pattern | None:
    """A case-insensitive pattern matching any of ``names`` as a whole word."""
    names = sorted({n.strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE)


class Labels:
    """Labels and flag checks for one subject's export, cached as the rows stream past."""

    def __init__(self, subject) -> None:
        self.subject = subject
        self.me = {i for i in (subject.requester_id, subject.user_id) if i is not None}
        family = set(
            db.session.scalars(
                sa.select(Guardianship.pupil_id).where(Guardianship.parent_id.in_(self.me or [-1]))
            )
        )
        self.family = family | ({subject.pupil_id} if subject.pupil_id else set())
        self.cache: dict[str, dict] = {name: {} for name in LOADERS}
        self.engagement_pupil: dict[int, int] = {}
        self.patterns: dict[int, re.Pattern | None] = {}
        self._targets: dict[tuple[str, str], str | None] = {}

    def target(self, table: str, column: str) -> str | None:
        """The table a column points at, when its values are shown as words."""
        key = (table, column)
        if key not in self._targets:
            fks = list(t(table).c[column].foreign_keys)
            name = fks[0].column.table.name if fks else None
            self._targets[key] = name if name in LOADERS else None
        return self._targets[key]

    def prefetch(self, table: str, rows: list[dict]) -> None:
        """Load, in one query per kind, the words for the keys of a batch of rows."""
        wanted: dict[str, set] = {}
        for column in (c.name for c in t(table).columns):
            target = self.target(table, column)
            if target:
                wanted.setdefault(target, set()).update(r[column] for r in rows if r[column] is not None)
        for target, ids in wanted.items():
            missing = [i for i in ids if i not in self.cache[target]]
            if missing:
                self.cache[target].update(LOADERS[target](missing, self))
        if table == "contributions":
            unknown = {r["engagement_id"] for r in rows} - set(self.engagement_pupil)
            if unknown:
                self.engagement_pupil.update(
                    db.session.execute(
                        sa.select(Engagement.id, Engagement.pupil_id).where(Engagement.id.in_(unknown))
                    ).all()
                )

    def get(self, target: str, value):
        """The word for a key loaded by :meth:`prefetch` ("" if unknown)."""
        return self.cache[target].get(value, "")

    def classmates(self, pupil_id: int | None) -> re.Pattern | None:
        """Other children's first names in the child's class (not this family's children)."""
        if pupil_id is None:
            return None
        if pupil_id not in self.patterns:
            class_id = sa.select(Pupil.class_id).where(Pupil.id == pupil_id).scalar_subquery()
            names = db.session.scalars(
                sa.select(Pupil.first_name).where(
                    Pupil.class_id == class_id,
                    Pupil.erased_at.is_(None),
                    Pupil.id.not_in(self.family | {pupil_id}),
                )
            )
            self.patterns[pupil_id] = whole_words(names)
        return self.patterns[pupil_id]

    def pupil_of(self, table: str, row: dict) -> int | None:
        """The child a row is about (a contribution through its engagement)."""
        if table == "contributions":
            return self.engagement_pupil.get(row["engagement_id"])
        return row.get("pupil_id")

    def names_in(self, table: str, row: dict) -> list[str]:
        """Other children's names found in the row's text."""
        column = TEXT_TO_CHECK.get(table)
        text = row.get(column) if column else None
        pattern = self.classmates(self.pupil_of(table, row)) if text else None
        return sorted({m.group(0) for m in pattern.finditer(text)}) if pattern else []

    def flag_reasons(self, table: str, row: dict) -> list[str]:
        """Why the office must look at this row before release (empty: nothing to check)."""
        reasons = []
        if table == "contributions" and row.get("shows_other_children") and row.get("photo_key"):
            reasons.append("photo shows other children")
        if self.names_in(table, row):
            reasons.append("names another child of the class")
        return reasons

    def redacted(self, table: str, row: dict) -> dict:
        """The row with other children's names in its text blanked out (the office's redaction)."""
        column = TEXT_TO_CHECK.get(table)
        pattern = self.classmates(self.pupil_of(table, row)) if column and row.get(column) else None
        return {**row, column: pattern.sub(REDACTED, row[column])} if pattern else row


def review_items(flagged: list[dict], subject) -> list[dict]:
    """What the office looks at before release: each flagged comment, note or photo with the
    other children's names found in it (computed now, never stored with the export)."""
    from app.models import Award, Contribution

    labels, found = Labels(subject), []
    models = {"contributions": Contribution, "awards": Award}
    for item in flagged:
        model = models.get(item["table"])
        row = db.session.get(model, item["row"]) if model is not None else None
        if model is None or row is None:
            continue
        data = {prop.columns[0].name: getattr(row, prop.key) for prop in model.__mapper__.column_attrs}
        labels.prefetch(item["table"], [data])
        found.append(
            {
                **item,
                "text": data.get(TEXT_TO_CHECK[item["table"]]),
                "names": labels.names_in(item["table"], data),
                "photo": bool(data.get("thumb_key") or data.get("photo_key")),
                "at": data.get("created_at"),
            }
        )
    return found
