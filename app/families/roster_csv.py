"""Reading a roster CSV: decoding, headings (our template, SIMS, Arbor) and each row's fields.

Only the fields P03 allows are read: a pupil's UPN, name, class, year group and Pupil Premium
status, and each contact's name, email, mobile, relationship and no-contact flag. Every other
column is ignored (and said so), so nothing else in an MIS export is ever kept, not even for the
hour between preview and confirm.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from app.core import csv_safe, i18n
from app.core.phones import uk_mobile_e164

MAX_BYTES = 10 * 1024 * 1024
MAX_CONTACTS = 3
CONTACT_FIELDS = ("name", "email", "mobile", "relationship", "no_contact")
_CONTACT_LABELS = {
    "name": "Name",
    "email": "Email",
    "mobile": "Mobile",
    "relationship": "Relationship",
    "no_contact": "No contact",
}
LABELS = {
    "upn": "UPN",
    "first_name": "First name",
    "last_name": "Last name",
    "class": "Class",
    "year_group": "Year group",
    "pupil_premium": "Pupil Premium",
    "home_language": "Home language",
}
REQUIRED = ("upn", "first_name", "last_name", "class")

# Headings recognised for each field, best first (compared without case, spaces or punctuation).
_PUPIL_ALIASES = {
    "upn": ["UPN", "Student UPN", "Pupil UPN", "Unique Pupil Number"],
    "first_name": [
        "First name",
        "Forename",
        "Legal Forename",
        "Legal First Name",
        "Given Name",
        "Preferred Forename",
        "Preferred First Name",
    ],
    "last_name": [
        "Last name",
        "Surname",
        "Legal Surname",
        "Legal Last Name",
        "Family Name",
        "Preferred Surname",
        "Preferred Last Name",
    ],
    "class": [
        "Class",
        "Reg Group",
        "Registration Group",
        "Registration Form",
        "Form",
        "Form Group",
        "Tutor Group",
        "Reg",
    ],
    "year_group": ["Year group", "Year", "NC Year", "National Curriculum Year", "Curriculum Year"],
    "pupil_premium": [
        "Pupil Premium",
        "Pupil Premium Indicator",
        "Pupil Premium Eligible",
        "PP",
        "PP Eligible",
        "Pupil Premium Status",
    ],
    # SIMS and Arbor export the DfE code (POL, URD, PNJ...) or its name; the family's carers get
    # their invitation, letters and messages in it from the first contact (app/core/i18n.py)
    "home_language": [
        "Home language",
        "First language",
        "First Language Code",
        "Home Language Code",
        "Main language",
        "Language",
    ],
}
_CONTACT_ALIASES = {
    "name": ["Name", "Full Name"],
    "first_name": ["First Name", "Forename"],
    "last_name": ["Last Name", "Surname"],
    "email": ["Email", "Email Address", "E-mail", "E-mail Address"],
    "mobile": ["Mobile", "Mobile Phone", "Mobile Number", "Mobile Telephone", "Mobile Tel"],
    "relationship": ["Relationship", "Relation", "Relationship to Pupil", "Relationship to Student"],
    "no_contact": ["No contact", "Do not contact", "No contact flag"],
}
_YES = {"y", "yes", "true", "t", "1", "x", "pp", "eligible"}
_NO = {"", "n", "no", "false", "f", "0", "noteligible", "none"}
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # the DfE check letters (no I, O or S)
_UPN_SHAPE = re.compile(r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$")
# Plain addresses (most of them) are checked here; anything else goes to email-validator.
_PLAIN_EMAIL = re.compile(
    r"^(?=[^@]{1,64}@)[a-z0-9_+'-]+(?:\.[a-z0-9_+'-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_SPECIAL_USE = {"arpa", "invalid", "local", "localhost", "onion", "test"}


def _norm(heading: str) -> str:
    return re.sub(r"[^a-z0-9]", "", heading.lower())


def _contact_prefixes(n: int) -> list[str]:
    names = [f"Contact {n}", f"Guardian {n}", f"Parent {n}", f"Carer {n}", f"Priority {n} Contact"]
    return names + {1: ["Primary Contact"], 2: ["Secondary Contact"]}.get(n, [])


def _alias_table() -> dict[str, tuple[object, int]]:
    table: dict[str, tuple[object, int]] = {}
    for key, names in _PUPIL_ALIASES.items():
        for rank, name in enumerate(names):
            table.setdefault(_norm(name), (key, rank))
    for n in range(1, MAX_CONTACTS + 1):
        for p_rank, prefix in enumerate(_contact_prefixes(n)):
            for key, names in _CONTACT_ALIASES.items():
                for rank, name in enumerate(names):
                    table.setdefault(_norm(f"{prefix} {name}"), ((n, key), p_rank * 10 + rank))
    return table


ALIASES = _alias_table()


class RosterFileError(Exception):
    """The file as a whole cannot be read, so nothing in it is imported."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Problem:
    row: int
    column: str
    message: str


@dataclass
class Contact:
    slot: int
    name: str
    email: str | None
    mobile: str | None
    relationship: str
    no_contact: bool


@dataclass
class Row:
    row: int
    upn: str
    first_name: str
    last_name: str
    class_name: str
    year_group: str | None
    pupil_premium: bool | None  # None: the file has no Pupil Premium column
    home_language: str | None = None  # one of app.core.i18n.LANGUAGES, or None: not known
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class ParsedFile:
    rows: list[Row]
    problems: list[Problem]
    notices: list[str]


def template_headings() -> list[str]:
    """The headings of the downloadable template, in order."""
    heads = [LABELS[k] for k in LABELS if k != "home_language"]
    for n in range(1, MAX_CONTACTS + 1):
        heads += [f"Contact{n} {_CONTACT_LABELS[f]}" for f in CONTACT_FIELDS]
    return [*heads, LABELS["home_language"]]  # last: files made from the older template still match


def decode(data: bytes) -> tuple[str, str]:
    """The text of an upload and the encoding used; RosterFileError when it is not a text file."""
    if not data.strip():
        raise RosterFileError("The file is empty. Please choose the CSV file with your pupils.")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        raise RosterFileError(
            "This looks like an Excel workbook (or a zip file), not a CSV file. "
            "In Excel choose File, Save As, and the type “CSV UTF-8”, then "
            "upload that."
        )
    if data[:4] == b"%PDF":
        raise RosterFileError("This is a PDF, not a CSV file. Please export a CSV from your MIS.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    sample = data[:65536]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or controls > len(sample) // 100:
        raise RosterFileError(
            "This file is not a CSV file: it does not contain text. Please "
            "export a CSV (comma-separated values) file from your MIS or "
            "spreadsheet."
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def map_headings(headings: list[str]) -> tuple[dict, list[str]]:
    """Which column holds each field, and the headings that are ignored."""
    chosen: dict[object, tuple[int, int]] = {}
    ignored = []
    for index, heading in enumerate(headings):
        found = ALIASES.get(_norm(heading))
        if found is None:
            if heading.strip():
                ignored.append(heading.strip())
            continue
        key, rank = found
        if key in chosen and chosen[key][0] <= rank:
            ignored.append(heading.strip())
            continue
        if key in chosen:
            ignored.append(headings[chosen[key][1]].strip())
        chosen[key] = (rank, index)
    missing = [LABELS[k] for k in REQUIRED if k not in chosen]
    if missing:
        raise RosterFileError(
            f"These required columns are missing: {', '.join(missing)}. Columns can be headed as "
            "in our template, or as SIMS or Arbor export them (for example “Legal Forename”, "
            "“Reg Group” or “Registration Form”)."
        )
    return {key: index for key, (_, index) in chosen.items()}, ignored


def _clean(value: str) -> str:
    return " ".join(value.split())


def _flag(value: str) -> bool | None:
    v = _norm(value)
    return True if v in _YES else False if v in _NO else None


def year_group(value: str) -> str | None:
    """ "Year 3", "Y3", "NC 3" → "3"; "Reception", "YR" → "R"; "Nursery", "N1" → "N"; else None."""
    v = _norm(value)
    for prefix in ("year", "yr", "nc", "y"):
        if v.startswith(prefix) and len(v) > len(prefix):
            v = v[len(prefix) :]
            break
    if v in ("r", "rec", "reception"):
        return "R"
    if v in ("n", "n1", "n2", "nursery"):
        return "N"
    return str(int(v)) if v.isdigit() and 1 <= int(v) <= 13 else None


def upn_problem(upn: str) -> str | None:
    """Why ``upn`` is not a UK Unique Pupil Number (shape, then the DfE check letter), or None."""
    if not _UPN_SHAPE.match(upn):
        return (
            f"“{upn}” is not a UPN: it should be a letter followed by 12 digits "
            "(the last may be a letter), like B801200005001."
        )
    total = sum(
        weight * (int(ch) if ch.isdigit() else _UPN_LETTERS.index(ch)) for weight, ch in enumerate(upn[1:], 2)
    )
    if _UPN_LETTERS[total % 23] != upn[0]:
        return f"“{upn}” has the wrong check letter for a UPN: please copy it again from your MIS."
    return None


def with_check_letter(rest: str) -> str:
    """A UPN made from its last 12 characters, with the DfE check letter in front (for demo and
    test data that must pass :func:`upn_problem`)."""
    total = sum(
        weight * (int(ch) if ch.isdigit() else _UPN_LETTERS.index(ch)) for weight, ch in enumerate(rest, 2)
    )
    return _UPN_LETTERS[total % 23] + rest


def email_address(value: str) -> str | None:
    """The address in lower case (as accounts are looked up), or None when it is not valid."""
    plain = value.lower()
    if len(plain) <= 254 and _PLAIN_EMAIL.match(plain) and plain.rsplit(".", 1)[1] not in _SPECIAL_USE:
        return plain
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


class _RowReader:
    def __init__(self, columns: dict):
        self.columns = columns
        self.slots = [
            n
            for n in range(1, MAX_CONTACTS + 1)
            if any((n, k) in columns for k in ("name", "first_name", "email", "mobile"))
        ]
        self.problems: list[Problem] = []
        self.unspoken: set[str] = set()  # home languages in the file that Hometime does not speak

    def cell(self, cells: list[str], key) -> str:
        index = self.columns.get(key)
        return _clean(cells[index]) if index is not None and index < len(cells) else ""

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    def read(self, n: int, cells: list[str]) -> Row:
        get = lambda key: self.cell(cells, key)  # noqa: E731
        upn = get("upn").replace(" ", "").upper()
        row = Row(n, upn, get("first_name"), get("last_name"), get("class"), None, None)
        for key, limit in (("upn", 13), ("first_name", 60), ("last_name", 60), ("class", 60)):
            value = getattr(row, "class_name" if key == "class" else key)
            if not value:
                self.problem(n, LABELS[key], f"{LABELS[key]} is missing.")
            elif len(value) > limit and key != "upn":
                self.problem(n, LABELS[key], f"{LABELS[key]} is longer than {limit} characters.")
        if upn and (message := upn_problem(upn)):
            self.problem(n, "UPN", message)
        if raw := get("year_group"):
            row.year_group = year_group(raw)
            if row.year_group is None:
                self.problem(
                    n,
                    "Year group",
                    f"“{raw}” is not a year group: use R or 1 to 13 "
                    "(“Year 3”, “Y3” and “Reception” work too).",
                )
        if "pupil_premium" in self.columns:
            row.pupil_premium = _flag(get("pupil_premium"))
            if row.pupil_premium is None:
                self.problem(n, "Pupil Premium", f"“{get('pupil_premium')}” should be Yes or No.")
        if raw := get("home_language"):
            row.home_language = i18n.from_mis(raw)
            if row.home_language is None:
                self.unspoken.add(raw)
        for slot in self.slots:
            contact = self.contact(n, slot, cells)
            if contact:
                row.contacts.append(contact)
        emails = [c.email for c in row.contacts if c.email]
        if len(emails) != len(set(emails)):
            self.problem(n, "Contacts", "Two contacts on this row have the same email address.")
        return row

    def contact(self, n: int, slot: int, cells: list[str]) -> Contact | None:
        get = lambda key: self.cell(cells, (slot, key))  # noqa: E731
        name = get("name") or _clean(f"{get('first_name')} {get('last_name')}")
        raw_email, raw_mobile = get("email"), get("mobile")
        if not (name or raw_email or raw_mobile):
            return None
        label = f"Contact {slot}"
        email = mobile = None
        if not name:
            self.problem(n, f"{label} name", f"{label} has no name.")
        elif len(name) > 120:
            self.problem(n, f"{label} name", f"{label} name is longer than 120 characters.")
        if raw_email:
            email = email_address(raw_email)
            if email is None:
                self.problem(n, f"{label} email", f"“{raw_email}” is not a valid email address.")
        if raw_mobile:
            mobile = uk_mobile_e164(raw_mobile)
            if mobile is None:
                self.problem(
                    n,
                    f"{label} mobile",
                    f"“{raw_mobile}” is not a UK mobile number (it should start 07 or +447).",
                )
        relationship = get("relationship") or "Parent"
        if len(relationship) > 40:
            self.problem(n, f"{label} relationship", "Relationship is longer than 40 characters.")
        no_contact = _flag(get("no_contact"))
        if no_contact is None:
            self.problem(n, f"{label} no contact", f"“{get('no_contact')}” should be Yes or No.")
        return Contact(slot, name, email, mobile, relationship, bool(no_contact))


def read_roster(data: bytes) -> ParsedFile:
    """Read an uploaded roster: every row's problems with its row number (the headings are row 1).

    Raises RosterFileError when the file as a whole is unusable: too big, not text, no headings we
    know, or no pupils.
    """
    if len(data) > MAX_BYTES:
        raise RosterFileError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Export "
            "only the columns in our template and try again.",
            status=413,
        )
    text, encoding = decode(data)
    del data
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    notices = []
    try:
        headings = next(reader, [])
        columns, ignored = map_headings(headings)
        rows_reader = _RowReader(columns)
        rows: list[Row] = []
        first_row: dict[str, int] = {}
        for n, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            row = rows_reader.read(n, cells)
            if row.upn in first_row:
                rows_reader.problem(
                    n,
                    "UPN",
                    f"UPN {row.upn} is also on row {first_row[row.upn]}: "
                    "each pupil can be in the file only once.",
                )
            elif row.upn:
                first_row[row.upn] = n
            rows.append(row)
    except csv.Error as error:
        raise RosterFileError(
            f"This file could not be read as CSV ({error}). Please export it "
            "again as CSV from your MIS or spreadsheet."
        ) from None
    if not rows:
        raise RosterFileError("The file has headings but no pupils in it.")
    if encoding != "UTF-8":
        notices.append(f"The file was read as {encoding} text.")
    if delimiter != ",":
        notices.append("Columns were separated by " + ("semicolons." if delimiter == ";" else "tabs."))
    if ignored:
        notices.append(
            "These columns are not used and were ignored, so nothing in them is kept: "
            + ", ".join(ignored)
            + "."
        )
    if rows_reader.unspoken:
        notices.append(
            "Hometime does not speak these home languages yet, so those families will get English: "
            + ", ".join(sorted(rows_reader.unspoken))
            + "."
        )
    if not rows_reader.slots:
        notices.append("No contact columns were found, so no parents or carers will be added.")
    return ParsedFile(rows, rows_reader.problems, notices)


def template_csv() -> str:
    """The downloadable template: our headings only (with a BOM so Excel reads it as UTF-8)."""
    out = io.StringIO()
    csv_safe.writer(out).writerow(template_headings())
    return "\ufeff" + out.getvalue()


def columns_help() -> list[tuple[str, bool, list[str]]]:
    """For the upload page: each pupil column, whether it is required, and the headings we know."""
    return [(LABELS[key], key in REQUIRED, names) for key, names in _PUPIL_ALIASES.items()]
