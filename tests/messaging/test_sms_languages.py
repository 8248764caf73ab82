"""Every text message fits two segments in every language, with realistic long values, without
being cut: a message in Urdu, Bengali or Polish is UCS-2 (70 characters a segment, 67 when split),
so its words must be short enough for the school's name, the child's name and the link."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core import i18n
from app.messaging.notify import render_part
from app.messaging.sms_text import fit_sms, info, normalise

TEMPLATES = sorted(p.name.removesuffix(".sms.txt") for p in Path("templates/messages").glob("*.sms.txt"))
BASE = "https://hometime.example"
SCHOOL = SimpleNamespace(id=1, name="St Bartholomew's C of E Primary", dpo_email="dpo@stbarts.example")


def _values() -> dict:
    """Long but real: a long school name, a long first name, the longest award, a join link."""
    return {
        "organisation": SCHOOL,
        "user": SimpleNamespace(id=7, name="Oluwaseun Adeyemi-Okonkwo", first_name="Oluwaseun"),
        "pupil": SimpleNamespace(first_name="Aleksandra"),
        "invitation_url": lambda user_id, org_id: f"{BASE}/family/join/{'x' * 43}",
        "base_url": BASE,
        "award_label": "Reading champion",
        "request_id": 12345,
        "reason": "we need to search paper records kept in the school archive",
        "due_text": "Wednesday 30 September 2026",
        "due_on": "2026-09-30",
        "expires_on": "2026-09-30T23:30:00+00:00",
        "closes_on": "2026-09-30",
        "code": "123456",
        "minutes": 10,
    }


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("code", list(i18n.LANGUAGES))
def test_every_sms_fits_two_segments_in_every_language_without_being_cut(ctx, template, code):
    with i18n.in_language(code):
        body = render_part(template, "sms.txt", **_values()) or ""
    if SCHOOL.name not in body and template != "sms_code":  # as compose_sms, for a school's family
        body = f"{SCHOOL.name} via Hometime: {body.removeprefix('Hometime: ')}"
    text = normalise(body)
    found = info(text)
    assert found.segments <= 2, f"{template} in {code}: {found} {text!r}"
    assert fit_sms(body) == text  # nothing had to be cut to fit


def test_a_polish_name_keeps_its_letters_and_is_counted_as_ucs2(ctx):
    with i18n.in_language("pl"):
        body = render_part(
            "topic_published", "sms.txt", **{**_values(), "pupil": SimpleNamespace(first_name="Łucja")}
        )
    text = fit_sms(body)
    assert "Łucja" in text and info(text).encoding == "UCS-2"
