"""Roster import (office): compare a read file with the school's records, then apply it all at once.

``build_plan`` works out, with a handful of set-based queries, what an import would do: pupils
new/updated/unchanged (matched by UPN), contacts new/updated (matched by email, else mobile, else
name, within the pupil's links), the rows' problems, and the pupils NOT in the file (listed for the
office, never removed here). ``confirm_import`` re-plans against the records as they are now and,
only when there is no problem at all, applies the plan with bulk statements in one transaction.
Pupils and their links are recorded as supplied by the school (P02).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.audit import log_event
from app.core.bulk import any_of, insert_many, update_many
from app.core.extensions import db
from app.families.roster_csv import ParsedFile, Problem, RosterFileError, Row
from app.models import Guardianship, Organisation, Pupil, SchoolClass, Source, User, UserKind, UserStatus


def academic_year(today: date | None = None) -> int:
    """The academic year a day (today by default) falls in, named by the year it starts."""
    today = today or date.today()
    return today.year if today.month >= 9 else today.year - 1


_CLOSED = (UserStatus.DEACTIVATED, UserStatus.ERASED)


@dataclass
class Summary:
    pupils_new: int = 0
    pupils_updated: int = 0
    pupils_unchanged: int = 0
    pupils_restored: int = 0
    contacts_new: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    contacts_skipped: int = 0
    # The classes the file covers: "not in this file" is asked of these classes only, so a file
    # of one class does not list every other class's pupils as missing.
    classes: list[str] = field(default_factory=list)

    def detail(self) -> str:
        """Counts only: the activity log never holds personal data."""
        return (
            f"pupils new={self.pupils_new} updated={self.pupils_updated} "
            f"unchanged={self.pupils_unchanged} restored={self.pupils_restored}; contacts "
            f"new={self.contacts_new} updated={self.contacts_updated} "
            f"unchanged={self.contacts_unchanged} skipped={self.contacts_skipped}"
        )


@dataclass
class Missing:
    id: int
    name: str
    class_name: str | None
    upn: str | None


@dataclass
class Plan:
    problems: list[Problem]
    notices: list[str]
    year: int
    rows: int = 0
    summary: Summary = field(default_factory=Summary)
    missing: list[Missing] = field(default_factory=list)
    pupil_inserts: list[dict] = field(default_factory=list)
    pupil_updates: list[dict] = field(default_factory=list)
    user_inserts: dict[str, dict] = field(default_factory=dict)
    user_updates: dict[int, dict] = field(default_factory=dict)
    link_inserts: list[tuple[int | str, int | str, dict]] = field(default_factory=list)
    link_updates: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _people(n: int) -> str:
    return "1 parent or carer has" if n == 1 else f"{n} parents or carers have"


class _Planner:
    """One pass over the rows, against the records loaded up front."""

    def __init__(self, parsed: ParsedFile, organisation_id: int, year: int):
        self.plan = Plan(list(parsed.problems), list(parsed.notices), year, rows=len(parsed.rows))
        self.org = organisation_id
        self.classes = {
            _key(c.name): c
            for c in db.session.execute(
                sa.select(SchoolClass.id, SchoolClass.name, SchoolClass.year_group).where(
                    SchoolClass.organisation_id == organisation_id, SchoolClass.academic_year == year
                )
            )
        }
        self.pupils = db.session.execute(
            sa.select(
                Pupil.id,
                Pupil.upn,
                Pupil.first_name,
                Pupil.last_name,
                Pupil.class_id,
                Pupil.year_group,
                Pupil.pupil_premium,
                Pupil.source,
                Pupil.removed_at,
                SchoolClass.name.label("class_name"),
            )
            .outerjoin(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(Pupil.organisation_id == organisation_id, Pupil.erased_at.is_(None))
        ).all()
        self.by_upn = {p.upn.upper(): p for p in self.pupils if p.upn}
        self.users: dict[int, sa.Row] = {}
        self.links: dict[int, list] = defaultdict(list)
        self.by_mobile_name: dict[tuple, int] = {}
        user_cols = (User.id, User.name, User.email, User.mobile, User.status, User.kind, User.language)
        for link in db.session.execute(
            sa.select(
                Guardianship.id.label("link_id"),
                Guardianship.pupil_id,
                Guardianship.relationship_label,
                Guardianship.no_contact,
                Guardianship.source.label("link_source"),
                Guardianship.removed_at,
                *user_cols,
            )
            .join(User, User.id == Guardianship.parent_id)
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(Pupil.organisation_id == organisation_id)
        ):
            self.links[link.pupil_id].append(link)
            self.users[link.id] = link
            if link.mobile and link.email is None and link.kind is UserKind.PARENT:
                self.by_mobile_name[(link.mobile, _key(link.name))] = link.id
        emails = sorted({c.email for r in parsed.rows for c in r.contacts if c.email})
        self.by_email: dict[str, int] = {}
        if emails:
            for user in db.session.execute(
                sa.select(*user_cols).where(any_of(sa.func.lower(User.email), emails))
            ):
                self.users.setdefault(user.id, user)
                self.by_email[user.email.lower()] = user.id
        self.file_email: dict[str, tuple[int | str, int, str, str | None]] = {}
        self.file_mobile: dict[tuple, int | str] = {}
        self.touched: set[int] = set()
        self.seen: set[int] = set()
        self.kept_details: set[int] = set()

    def problem(self, row: int, column: str, message: str) -> None:
        self.plan.problems.append(Problem(row, column, message))

    def run(self, rows: list[Row]) -> Plan:
        in_file = set()
        covered: dict[str, str] = {}
        for row in rows:
            in_file.add(row.upn)
            if row.class_name and row.class_name.strip():
                known = self.classes.get(_key(row.class_name))
                covered.setdefault(_key(row.class_name), known.name if known else row.class_name.strip())
            pupil_ref = self.pupil(row)
            refs: dict = {}
            for contact in row.contacts:
                ref = self.contact(row, contact, pupil_ref, refs)
                if (
                    ref is not None
                    and ref in refs
                    and not (contact.email and refs[ref].email == contact.email)
                ):  # reported already
                    self.problem(
                        row.row,
                        f"Contact {contact.slot}",
                        "This contact is the same person as another contact on this row.",
                    )
                refs.setdefault(ref, contact)
        plan, s = self.plan, self.plan.summary
        s.classes = sorted(covered.values(), key=str.casefold)
        s.contacts_new = len(plan.user_inserts)
        s.contacts_updated = len(self.touched)
        s.contacts_unchanged = len(self.seen - self.touched)
        plan.missing = sorted(
            (
                Missing(p.id, f"{p.first_name} {p.last_name}", p.class_name, p.upn)
                for p in self.pupils
                if p.removed_at is None
                and (p.upn or "").upper() not in in_file
                and (not covered or _key(p.class_name or "") in covered)
            ),
            key=lambda m: (m.class_name or "", m.name.casefold()),
        )
        if self.kept_details:
            plan.notices.append(
                _people(len(self.kept_details)) + " joined Hometime, so they keep "
                "the name, email and mobile they manage themselves."
            )
        if s.contacts_skipped:
            plan.notices.append(
                _people(s.contacts_skipped) + " closed their account or removed "
                "their link to a child, so they are not linked again."
            )
        return plan

    def pupil(self, row: Row) -> int | str:
        cls = self.classes.get(_key(row.class_name))
        if cls is None and row.class_name:
            self.problem(
                row.row,
                "Class",
                f"There is no class called “{row.class_name}” for "
                f"{self.plan.year}–{(self.plan.year + 1) % 100:02d}. Add the class first, "
                "or correct the name in the file.",
            )
        values = {
            "first_name": row.first_name,
            "last_name": row.last_name,
            "class_id": cls.id if cls else None,
            "year_group": row.year_group or (cls.year_group if cls else ""),
            "source": Source.SCHOOL,
        }
        if row.pupil_premium is not None:
            values["pupil_premium"] = row.pupil_premium
        s = self.plan.summary
        existing = self.by_upn.get(row.upn)
        if existing is None:
            s.pupils_new += 1
            self.plan.pupil_inserts.append(
                {"organisation_id": self.org, "upn": row.upn, "pupil_premium": False, **values}
            )
            return row.upn
        changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
        if existing.removed_at is not None:
            s.pupils_restored += 1
            changed.update(removed_at=None, removed_by_id=None)
        if changed:
            s.pupils_updated += 1
            self.plan.pupil_updates.append({"id": existing.id, **changed})
        else:
            s.pupils_unchanged += 1
        return existing.id

    def _in_links(self, pupil_ref, c, taken) -> int | None:
        """A contact already linked to this pupil: same mobile (and name, when several share
        it), else same name when the emails cannot disagree."""
        if not isinstance(pupil_ref, int):
            return None
        links = [
            link
            for link in self.links.get(pupil_ref, [])
            if link.id not in taken and link.kind is UserKind.PARENT
        ]
        same_name = [link for link in links if _key(link.name) == _key(c.name)]
        if c.mobile:
            by_mobile = [link for link in links if link.mobile == c.mobile]
            named = [link for link in by_mobile if link in same_name]
            if named:
                return named[0].id
            if len(by_mobile) == 1 and not (c.email and by_mobile[0].email):
                return by_mobile[0].id
        same_name = [link for link in same_name if not (c.email and link.email)]
        return same_name[0].id if same_name else None

    def _find(self, row: Row, c, pupil_ref, taken) -> int | str | None:
        if c.email:
            if c.email in self.file_email:
                ref, first, name, mobile = self.file_email[c.email]
                if _key(name) != _key(c.name) or (mobile and c.mobile and mobile != c.mobile):
                    self.problem(
                        row.row,
                        f"Contact {c.slot} email",
                        f"{c.email} is given with a different name or mobile on row "
                        f"{first}: one email address is one person, so these must match.",
                    )
                return ref
            if c.email in self.by_email:
                return self.by_email[c.email]
        found: int | str | None = self._in_links(pupil_ref, c, taken)
        if found is None and c.mobile and not c.email:
            key = (c.mobile, _key(c.name))
            found = self.by_mobile_name.get(key) or self.file_mobile.get(key)
        return found

    def contact(self, row: Row, c, pupil_ref, taken) -> int | str | None:
        ref = self._find(row, c, pupil_ref, taken)
        if ref is None:
            ref = f"new{len(self.plan.user_inserts)}"
            self.plan.user_inserts[ref] = {
                "kind": UserKind.PARENT,
                "status": UserStatus.INVITED,
                "name": c.name,
                "email": c.email,
                "mobile": c.mobile,
                "language": row.home_language,
            }
        elif isinstance(ref, int):
            user = self.users[ref]
            if user.kind is UserKind.STAFF:
                self.problem(
                    row.row,
                    f"Contact {c.slot} email",
                    f"{c.email} belongs to a member of staff's account. Staff who are "
                    "also parents need to be listed with a personal email address.",
                )
                return None
            if user.status in _CLOSED:
                self.plan.summary.contacts_skipped += 1
                return ref
            self.seen.add(ref)
            if ref not in self.plan.user_updates and user.status is UserStatus.INVITED:
                changes = {"name": c.name} if c.name != user.name else {}
                if c.email and c.email != (user.email or "").lower():
                    changes["email"] = c.email  # free: by_email would have matched its owner
                if c.mobile and c.mobile != user.mobile:
                    changes["mobile"] = c.mobile
                if row.home_language and user.language is None:
                    changes["language"] = row.home_language  # a carer's own choice is never overridden
                if changes:
                    self.plan.user_updates[ref] = {"id": ref, **changes}
                    self.touched.add(ref)
            elif user.status is UserStatus.ACTIVE and (
                c.name != user.name or (c.mobile and c.mobile != user.mobile)
            ):
                self.kept_details.add(ref)
        if c.email:
            self.file_email.setdefault(c.email, (ref, row.row, c.name, c.mobile))
        if c.mobile:
            self.file_mobile.setdefault((c.mobile, _key(c.name)), ref)
        self.link(c, pupil_ref, ref)
        return ref

    def link(self, c, pupil_ref, ref) -> None:
        values = {"relationship_label": c.relationship, "no_contact": c.no_contact, "source": Source.SCHOOL}
        existing = (
            next((link for link in self.links.get(pupil_ref, []) if link.id == ref), None)
            if isinstance(pupil_ref, int)
            else None
        )
        if existing is None:
            self.plan.link_inserts.append((pupil_ref, ref, values))
            if isinstance(ref, int):
                self.touched.add(ref)
            return
        if existing.removed_at is not None:
            self.plan.summary.contacts_skipped += 1
            return
        current = {
            "relationship_label": existing.relationship_label,
            "no_contact": existing.no_contact,
            "source": existing.link_source,
        }
        if current != values:
            self.plan.link_updates.append({"id": existing.link_id, **values})
            self.touched.add(ref)


def build_plan(parsed: ParsedFile, organisation_id: int, *, year: int | None = None) -> Plan:
    """What importing ``parsed`` would do for this school's current academic year (read only)."""
    return _Planner(parsed, organisation_id, year or academic_year()).run(parsed.rows)


def missing_pupils(organisation_id: int, ids: list[int]) -> list[Missing]:
    """Those of ``ids`` still in this school (not removed since), for the summary page."""
    rows = db.session.execute(
        sa.select(
            Pupil.id, Pupil.first_name, Pupil.last_name, Pupil.upn, SchoolClass.name.label("class_name")
        )
        .outerjoin(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(
            Pupil.id.in_(ids),
            Pupil.organisation_id == organisation_id,
            Pupil.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
        .order_by(SchoolClass.name, Pupil.last_name, Pupil.first_name)
    )
    return [Missing(r.id, f"{r.first_name} {r.last_name}", r.class_name, r.upn) for r in rows]


def _apply(plan: Plan) -> None:
    new_pupils = insert_many(Pupil, plan.pupil_inserts)
    # a new pupil is named by its UPN, a new parent by its key, until they have ids
    pupil_ids: dict[int | str, int] = {
        row["upn"]: pupil_id for row, pupil_id in zip(plan.pupil_inserts, new_pupils, strict=True)
    }
    update_many(Pupil, plan.pupil_updates)
    user_ids: dict[int | str, int] = dict(
        zip(plan.user_inserts, insert_many(User, list(plan.user_inserts.values())), strict=True)
    )
    update_many(User, list(plan.user_updates.values()))
    insert_many(
        Guardianship,
        [
            {"pupil_id": pupil_ids.get(p, p), "parent_id": user_ids.get(u, u), **values}
            for p, u, values in plan.link_inserts
        ],
    )
    update_many(Guardianship, plan.link_updates)


def confirm_import(parsed: ParsedFile, organisation_id: int, user, *, year: int | None = None) -> Plan:
    """Check the file again against the records as they are now and, when there is no problem,
    apply it in one transaction: everything is imported, or nothing is.

    Returns the plan (with problems and nothing saved when it is not ok). Raises RosterFileError
    (409) when the records changed underneath in a way that breaks the import.
    """
    try:
        # One import at a time per school: a second confirm waits, then sees the first's rows.
        db.session.execute(
            sa.select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
        )
        plan = build_plan(parsed, organisation_id, year=year)
        if not plan.ok:
            db.session.rollback()
            return plan
        _apply(plan)
        log_event("roster_import", user, organisation_id=organisation_id, detail=plan.summary.detail())
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RosterFileError(
            "Some records changed while the file was being imported, so nothing "
            "was imported. Please upload the file again.",
            status=409,
        ) from None
    except Exception:
        db.session.rollback()
        raise
    return plan
