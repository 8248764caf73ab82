"""Roster pages: accessible, strict-CSP-safe, and complete without JavaScript."""

from __future__ import annotations

from tests.factories import login
from tests.html_check import Page
from tests.roster_helpers import csv_bytes, import_file, school_setup, template_row, upload


def _pages(client) -> dict[str, tuple[int, Page]]:
    org, _, office = school_setup("Oak")
    login(client, office)
    found = {}

    def keep(name, response):
        found[name] = (response.status_code, Page(response.get_data(as_text=True)))

    keep("upload form", client.get("/office/roster"))
    keep("error on the form", upload(client, b"Name,Email\r\nA,b\r\n"))
    keep("preview with problems", upload(client, csv_bytes([template_row(1, "Nowhere")])))
    import_file(client, csv_bytes([template_row(n, "Oak") for n in (1, 2)]))
    keep("clean preview", upload(client, csv_bytes([template_row(1, "Oak")])))
    keep("result", import_file(client, csv_bytes([template_row(1, "Oak")])))
    return found


def test_roster_pages_are_labelled_and_csp_safe(client):
    pages = _pages(client)
    assert {name: status for name, (status, _) in pages.items()} == {
        "upload form": 200,
        "error on the form": 422,
        "preview with problems": 422,
        "clean preview": 200,
        "result": 200,
    }
    for name, (_, page) in pages.items():
        assert page.unlabelled_fields() == [], name
        assert page.csp_violations() == [], name
        assert len(page.find_all("h1")) == 1, name
        for form in page.find_all("form"):
            assert form.attrs.get("action") and form.attrs.get("method") == "post", name
        for table in page.find_all("table"):
            assert any(child.tag == "caption" for child in table.children), name


def test_the_file_error_is_announced_and_tied_to_the_field(client):
    _, page = _pages(client)["error on the form"]
    field = page.by_id("file")
    assert field.attrs.get("aria-invalid") == "true"
    described = field.attrs["aria-describedby"].split()
    assert "file-error" in described and "file-hint" in described
    assert "These required columns are missing" in page.by_id("file-error").all_text()
    summary = page.find(role="alert")
    assert summary is not None
    assert any(a.attrs.get("href") == "#file" for a in page.find_all("a"))


def test_upload_form_works_without_javascript(client):
    _, page = _pages(client)["upload form"]
    form = page.find("form", action="/office/roster/preview")
    assert form.attrs.get("enctype") == "multipart/form-data"
    assert page.find("a", href="/office/roster/template.csv") is not None
    assert page.by_id("file").attrs.get("type") == "file"
