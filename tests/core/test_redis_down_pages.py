"""Redis unreachable during a request: a clear "busy, try again" page (503), never a 500, and
nothing half-saved; once Redis is back the same button works."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.models import Invitation, Role
from tests import factories as f


def test_invite_everyone_while_redis_is_down_says_try_again_and_saves_nothing(client, own_redis):
    org = f.school()
    f.pupil(f.school_class(org), f.parent())
    office = f.staff(org, Role.OFFICE)
    f.login(client, office)
    own_redis.stop()
    r = client.post("/office/families/invite-all", data={"confirm": "yes"})
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "60"
    page = r.get_data(as_text=True)
    assert "busy for a moment" in page and "Nothing was lost" in page
    assert "Traceback" not in page and "ConnectionError" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    own_redis.start()
    assert client.post("/office/families/invite-all", data={"confirm": "yes"}).status_code == 303
