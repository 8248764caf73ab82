"""Reports show aggregates only and hide small groups (P13); Pupil Premium only in aggregate (P04)."""
import re

import pytest

from app.extensions import db
from app.models import Engagement, Role
from tests import factories as f
from tests import teaching as t


def _class(org, name, pp_done, pp_not, other_done, other_not, item):
    cls = f.school_class(org, name=name)
    for premium, done, count in ((True, True, pp_done), (True, False, pp_not),
                                 (False, True, other_done), (False, False, other_not)):
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
    assert a.startswith("50% of 6") and a.count("fewer than 5") == 2
    assert b == "75% of 1250% of 6100% of 6"
    assert "Secret" not in page  # no child's name anywhere


def test_teachers_cannot_open_the_report(client):
    org = f.school()
    f.login(client, f.staff(org, Role.TEACHER))
    assert client.get("/office/report").status_code == 403
