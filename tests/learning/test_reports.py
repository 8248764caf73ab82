"""Reports show aggregates only and hide small groups (P13); Pupil Premium only in aggregate (P04)."""

import itertools
import re

import pytest

from app.core.extensions import db
from app.models import Engagement, Role
from tests import factories as f
from tests import teaching as t


def _class(org, name, pp_done, pp_not, other_done, other_not, item):
    cls = f.school_class(org, name=name)
    for premium, done, count in (
        (True, True, pp_done),
        (True, False, pp_not),
        (False, True, other_done),
        (False, False, other_not),
    ):
        for _ in range(count):
            pupil = f.pupil(cls, first_name=f"Secret{name[-1]}", pupil_premium=premium)
            if done:
                db.session.add(Engagement(pupil_id=pupil.id, topic_activity_id=item.id, rating=4))
    db.session.commit()


@pytest.mark.promise("P13")
@pytest.mark.promise("P04")
def test_the_report_is_aggregate_and_hides_groups_smaller_than_five(client):
    org = f.school()
    item = t.topic(org, [], [t.activity(org)]).items[0]
    _class(org, "Class A", 1, 1, 2, 2, item)  # 6 pupils: both halves too small to show
    _class(org, "Class B", 3, 3, 6, 0, item)  # 12 pupils: 6 Pupil Premium, 6 others
    f.login(client, f.staff(org, Role.OFFICE))
    page = client.get("/office/report").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<tr><td>(Class \w)</td>(.*?)</tr>", page)}
    a = re.sub(r"<[^>]+>", "", rows["Class A"])
    b = re.sub(r"<[^>]+>", "", rows["Class B"])
    assert a.startswith("50% of 6") and a.count("hidden") == 2
    assert b == "75% of 1250% of 6100% of 6"
    assert "Secret" not in page  # no child's name anywhere


def test_teachers_cannot_open_the_report(client):
    org = f.school()
    f.login(client, f.staff(org, Role.TEACHER))
    assert client.get("/office/report").status_code == 403


def _table(page: str) -> dict[str, list[tuple[int, int] | None]]:
    """Each class's row as shown: (pupils, engaged) per cell, engaged worked back from the rate
    as a reader would, or None where the figure is hidden."""
    table = {}
    for name, row in re.findall(r"<tr><td>(Class \w)</td>(.*?)</tr>", page, re.S):
        cells = []
        for td in re.findall(r"<td>(.*?)</td>", row, re.S):
            text = re.sub(r"<[^>]+>", "", td)
            found = re.fullmatch(r"(\d+)% of (\d+)", text.strip())
            if found:
                rate, pupils = int(found.group(1)), int(found.group(2))
                engaged = [e for e in range(pupils + 1) if round(100 * e / pupils) == rate]
                assert len(engaged) == 1  # small classes: the rate gives the count away exactly
                cells.append((pupils, engaged[0]))
            else:
                assert text.strip() == "hidden", text
                cells.append(None)
        table[name] = cells
    return table


def _derivable(row: list[tuple[int, int] | None]) -> list[tuple[int, int]]:
    """Every figure a reader can compute from the shown cells of a row (all = PP + other), by
    adding and subtracting any of them, and from a whole class where all or none took part."""
    shown = [c for c in row if c is not None]
    found = []
    for signs in itertools.product((-1, 0, 1), repeat=len(shown)):
        if any(signs):
            found.append(
                (
                    sum(s * c[0] for s, c in zip(signs, shown, strict=True)),
                    sum(s * c[1] for s, c in zip(signs, shown, strict=True)),
                )
            )
    return found


@pytest.mark.promise("P13")
def test_a_hidden_group_cannot_be_worked_out_from_the_figures_shown(client):
    org = f.school()
    item = t.topic(org, [], [t.activity(org)]).items[0]
    # (Pupil Premium done, not done, other done, not done); true figures of each small group.
    classes = {
        "Class A": (2, 1, 6, 3),  # 3 Pupil Premium in 12: "all minus other" gave it away
        "Class B": (3, 3, 6, 0),  # everything large enough: all shown
        "Class C": (1, 1, 2, 2),  # both halves small
        "Class D": (2, 0, 7, 0),  # 2 Pupil Premium, and the whole class took part
        "Class E": (4, 2, 1, 1),
    }  # the other pupils are the small group
    for name, counts in classes.items():
        _class(org, name, *counts, item)
    f.login(client, f.staff(org, Role.OFFICE))
    page = client.get("/office/report").get_data(as_text=True)
    table = _table(page)
    assert set(table) == set(classes)
    assert table["Class B"] == [(12, 9), (6, 3), (6, 6)]  # nothing small: nothing hidden
    assert table["Class A"][0] == (12, 8)  # the class's own figure stays, the parts go
    for name, (pp_done, pp_not, other_done, other_not) in classes.items():
        pp = (pp_done + pp_not, pp_done)
        other = (other_done + other_not, other_done)
        truth = [(pp[0] + other[0], pp[1] + other[1]), pp, other]
        row = table[name]
        assert [c for c in row if c is not None] == [real for real, c in zip(truth, row, strict=True) if c], (
            name
        )
        for real, cell in zip(truth, row, strict=True):
            if real[0] < 5:
                assert cell is None, f"{name}: a group of {real[0]} is shown"
        for real, cell in zip(truth, row, strict=True):
            if cell is None:
                assert real not in _derivable(row), f"{name}: a hidden figure can be worked out"
                if row[0] is not None and row[0][1] in (0, row[0][0]):
                    raise AssertionError(f"{name}: all or none took part, so the hidden rate shows")
    assert "could be worked out by subtraction" in page
