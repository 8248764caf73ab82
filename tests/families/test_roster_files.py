"""Roster import: the files offices really have (template, SIMS, Arbor, Excel's encodings)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.families.roster_csv import read_roster, upn_problem
from app.models import Pupil
from tests.factories import login
from tests.roster_helpers import (
    counts,
    csv_bytes,
    import_file,
    school_setup,
    template_row,
    upload,
    upload_id,
    upn,
)


def _pupil(upn_value: str) -> Pupil:
    return db.session.scalar(sa.select(Pupil).where(Pupil.upn == upn_value))


def test_template_round_trip_imports_cleanly(client):
    org, (oak,), office = school_setup("Oak")
    login(client, office)
    template = client.get("/office/roster/template.csv")
    assert template.status_code == 200
    assert template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    headings = next(csv.reader(io.StringIO(template.get_data(as_text=True).lstrip("\ufeff"))))
    assert headings[:6] == ["UPN", "First name", "Last name", "Class", "Year group", "Pupil Premium"]
    assert "Contact1 Email" in headings and "Contact3 No contact" in headings

    rows = [
        template_row(
            1,
            "Oak",
            first="Ada",
            pp="Yes",
            contacts=[
                ("Grace Lovelace", "grace@family.example", "07700 900001", "Mother", "No"),
                ("Sam Lovelace", "", "07700900002", "Father", "Yes"),
            ],
        ),
        template_row(2, "Oak", first="Ben", contacts=[("Ann Other", "", "", "Carer", "")]),
    ]
    data = template.get_data() + b"".join(
        csv_bytes(rows).split(b"\r\n", 1)[1:]
    )  # the downloaded headings, our rows under them
    page = import_file(client, data)
    assert page.status_code == 200
    assert "Import finished" in page.get_data(as_text=True)

    ada = _pupil(upn(1))
    assert (ada.first_name, ada.school_class.name, ada.year_group, ada.pupil_premium) == (
        "Ada",
        "Oak",
        "1",
        True,
    )
    carers = {link.parent.name: link for link in ada.links}
    assert carers["Grace Lovelace"].parent.email == "grace@family.example"
    assert carers["Grace Lovelace"].parent.mobile == "+447700900001"
    assert carers["Grace Lovelace"].relationship_label == "Mother"
    assert carers["Sam Lovelace"].no_contact is True
    assert carers["Sam Lovelace"].parent.status.value == "invited"
    assert _pupil(upn(2)).links[0].parent.email is None  # a letter can still invite them
    assert counts() == (2, 3, 3)


SIMS = [
    "UPN",
    "Legal Forename",
    "Legal Surname",
    "Preferred Forename",
    "Reg Group",
    "Year",
    "Pupil Premium Indicator",
    "Primary Contact Name",
    "Primary Contact Email",
    "Primary Contact Mobile",
    "Primary Contact Relationship",
    "Secondary Contact Name",
    "Secondary Contact Mobile Phone",
]
ARBOR = [
    "Student UPN",
    "First Name",
    "Last Name",
    "Registration Form",
    "Year Group",
    "Pupil Premium",
    "Guardian 1 Name",
    "Guardian 1 Email",
    "Guardian 1 Mobile Phone",
    "Guardian 1 Relationship",
    "Guardian 2 First Name",
    "Guardian 2 Last Name",
    "Guardian 2 Email",
]


def test_sims_export_headings_are_recognised(ctx):
    parsed = read_roster(
        csv_bytes(
            [
                [
                    upn(7),
                    "Mohammed",
                    "Khan",
                    "Mo",
                    "Oak",
                    "Year 3",
                    "T",
                    "Aisha Khan",
                    "AISHA@Family.example",
                    "+44 7700 900123",
                    "Mother",
                    "Imran Khan",
                    "07700900124",
                ]
            ],
            SIMS,
        )
    )
    assert parsed.problems == []
    row = parsed.rows[0]
    assert (row.upn, row.first_name, row.last_name, row.class_name) == (upn(7), "Mohammed", "Khan", "Oak")
    assert (row.year_group, row.pupil_premium) == ("3", True)
    assert [(c.name, c.email, c.mobile) for c in row.contacts] == [
        ("Aisha Khan", "aisha@family.example", "+447700900123"),
        ("Imran Khan", None, "+447700900124"),
    ]
    assert any("Preferred Forename" in n for n in parsed.notices)  # the legal name is used


def test_arbor_export_headings_are_recognised(ctx):
    parsed = read_roster(
        csv_bytes(
            [
                [
                    upn(8),
                    "Lily",
                    "Evans",
                    "2B",
                    "Reception",
                    "No",
                    "Rose Evans",
                    "rose@family.example",
                    "07700 900200",
                    "Mother",
                    "Tom",
                    "Evans",
                    "tom@family.example",
                ]
            ],
            ARBOR,
        )
    )
    assert parsed.problems == []
    row = parsed.rows[0]
    assert (row.upn, row.first_name, row.class_name, row.year_group, row.pupil_premium) == (
        upn(8),
        "Lily",
        "2B",
        "R",
        False,
    )
    assert [(c.slot, c.name, c.email) for c in row.contacts] == [
        (1, "Rose Evans", "rose@family.example"),
        (2, "Tom Evans", "tom@family.example"),
    ]


def test_headings_ignore_case_and_spacing(ctx):
    heads = ["  upn ", "FIRST_NAME", "last-name", "CLASS", "contact 1 e-mail", "CONTACT1NAME"]
    parsed = read_roster(csv_bytes([[upn(3), "A", "B", "Oak", "x@family.example", "X Y"]], heads))
    assert parsed.problems == [] and parsed.rows[0].contacts[0].email == "x@family.example"


def test_utf8_with_bom_and_windows_1252_names(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    bom = "\ufeff".encode() + csv_bytes([template_row(1, "Oak", first="Zoë")])
    assert bom.startswith(b"\xef\xbb\xbfUPN")
    import_file(client, bom)
    cp1252 = csv_bytes([template_row(2, "Oak", first="Siân", last="Ó Súilleabháin")], encoding="cp1252")
    assert b"Si\xe2n" in cp1252  # not UTF-8
    page = upload(client, cp1252)
    assert page.status_code == 200
    assert "read as Windows-1252" in page.get_data(as_text=True)
    client.post("/office/roster/confirm", data={"upload": upload_id(page.get_data(True))})
    assert _pupil(upn(1)).first_name == "Zoë"
    assert (_pupil(upn(2)).first_name, _pupil(upn(2)).last_name) == ("Siân", "Ó Súilleabháin")


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files(client, delimiter):
    org, _, office = school_setup("Oak")
    login(client, office)
    data = csv_bytes(
        [template_row(1, "Oak", contacts=[("Jo Bloggs", "jo@family.example", "", "Mother, step", "")])],
        delimiter=delimiter,
    )
    page = import_file(client, data)
    assert page.status_code == 200
    link = _pupil(upn(1)).links[0]
    assert (link.parent.email, link.relationship_label) == ("jo@family.example", "Mother, step")


def test_quoted_newlines_stay_in_one_row_and_row_numbers_count_records(ctx):
    data = csv_bytes(
        [
            template_row(1, "Oak", first="Anne\nMarie"),
            template_row(2, "Oak", contacts=[("Kim\r\nLee", "not-an-email", "", "", "")]),
        ]
    )
    parsed = read_roster(data)
    assert [r.first_name for r in parsed.rows] == ["Anne Marie", "Child2"]
    assert parsed.rows[1].contacts[0].name == "Kim Lee"
    # The second pupil is row 3 of the spreadsheet, although it starts on line 4 of the file.
    assert [(p.row, p.column) for p in parsed.problems] == [(3, "Contact 1 email")]


def test_missing_required_columns_are_named_and_nothing_imported(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    data = csv_bytes([["Ada", "Lovelace", "Year 1"]], ["First name", "Surname", "Year"])
    page = upload(client, data)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "These required columns are missing: UPN, Class." in text
    assert "Nothing was imported" in text
    assert counts() == (0, 0, 0)


@pytest.mark.promise("P03")
def test_only_the_fields_p03_allows_are_kept_and_extra_columns_are_named(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    heads = [
        "UPN",
        "Forename",
        "Surname",
        "Class",
        "Date of Birth",
        "Ethnicity",
        "Home Address",
        "Contact1 Name",
        "Contact1 Email",
        "Contact1 Work Phone",
    ]
    data = csv_bytes(
        [
            [
                upn(1),
                "Ada",
                "Lovelace",
                "Oak",
                "2019-12-10",
                "White British",
                "12 Secret Lane",
                "Grace Lovelace",
                "grace@family.example",
                "01632 960123",
            ]
        ],
        heads,
    )
    page = upload(client, data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        "These columns are not used and were ignored, so nothing in them is kept: Date of "
        "Birth, Ethnicity, Home Address, Contact1 Work Phone."
    ) in text
    client.post("/office/roster/confirm", data={"upload": upload_id(text)})
    assert counts() == (1, 1, 1)
    # None of the ignored values is anywhere in the database.
    with db.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ("pupils", "users", "guardianships", "activity_log")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
        )
    assert "Lovelace" in dump
    for secret in ("2019-12-10", "White British", "Secret Lane", "960123"):
        assert secret not in dump


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, message",
    [
        (_xlsx(), "looks like an Excel workbook"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "does not contain text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This is a PDF"),
        (b"", "The file is empty"),
        (b"UPN,First name,Last name,Class\r\n", "headings but no pupils"),
    ],
)
def test_files_that_are_not_a_roster_csv_get_a_clear_message(client, data, message):
    org, _, office = school_setup("Oak")
    login(client, office)
    page = upload(client, data, "pupils.xlsx")
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_a_file_over_the_limit_is_refused_with_413(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    row = ",".join(template_row(1, "Oak")) + "\r\n"
    data = csv_bytes([]) + (row * (11 * 1024 * 1024 // len(row) + 1)).encode()  # 11 MB
    page = upload(client, data)
    assert page.status_code == 413
    assert "larger than 10 MB" in page.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_a_50_mb_file_is_refused_with_413_and_a_clear_message(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    page = upload(client, b"UPN,First name\r\n" + b"x" * (50 * 1024 * 1024))
    assert page.status_code == 413
    text = page.get_data(as_text=True)
    assert "The file is larger than 10 MB, so nothing was imported" in text
    assert 'name="file"' in text  # the upload form again, to choose another file
    assert counts() == (0, 0, 0)


def test_upn_check_letter_follows_the_dfe_rule(ctx):
    assert upn_problem("B801200005001") is None  # the DfE guide's worked shape
    assert "wrong check letter" in upn_problem("A801200005001")
    assert "is not a UPN" in upn_problem("B80120000500")  # 12 characters
    assert "is not a UPN" in upn_problem("I801200005001")  # I is never a check letter
    assert upn_problem(upn(42)) is None
