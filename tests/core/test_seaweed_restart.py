"""The object store restarted under the app: a real SeaweedFS of this module's own (never the
suite's), stopped with SIGKILL and started again on the same folder. While it is down an upload
answers "busy" with nothing half-written and pages that need no file keep working; a deletion
that could not reach it is recorded and done later; once it is back, photos stored before the
restart read back and the same upload succeeds."""
# ruff: noqa: F811 - pytest fixtures imported and used as arguments

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core import seaweed, storage
from app.core.extensions import db
from app.models import Contribution
from tests import factories as f
from tests.learning.test_parents_photos import _send
from tests.parents_data import family, item_of, jpeg_with_gps
from tests.services import recorded_deletions


@pytest.fixture(scope="module")
def own_store(tmp_path_factory):
    server = seaweed.start(tmp_path_factory.mktemp("weed"), bucket="hometime-restart")
    yield server
    seaweed.stop(server, kill=True)


@pytest.fixture()
def store(app, ctx, own_store, monkeypatch):
    for name, value in own_store.config().items():
        monkeypatch.setitem(app.config, name, value)
    return own_store


def _photos() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Contribution))


def test_seaweedfs_killed_and_started_again_loses_nothing(client, store):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    assert _send(client, fam.ben, item, jpeg_with_gps()).status_code == 303
    before = db.session.scalar(sa.select(Contribution))
    doomed = storage.put(b"a printable replaced while the store is down", prefix="pdf")

    seaweed.stop(store, kill=True)
    busy = _send(client, fam.ben, item, jpeg_with_gps())
    assert busy.status_code == 503 and "busy" in busy.get_data(as_text=True)
    assert _photos() == 1, "no row may point at a photo the store never took"
    assert client.get("/family/").status_code == 200  # pages that need no file keep working
    storage.delete_after_commit([doomed], reason="replaced")
    db.session.commit()  # the change stands; the file's deletion waits for the store
    assert recorded_deletions([doomed]) == {doomed: ("replaced", None, False)}

    restarted = seaweed.start(store.folder, bucket=store.bucket)
    assert restarted.endpoint == store.endpoint  # same ports, same data folder
    assert client.get(f"/family/photos/{before.id}/photo").status_code == 200
    assert client.get(f"/family/photos/{before.id}/thumb").status_code == 200
    assert _send(client, fam.ben, item, jpeg_with_gps()).status_code == 303
    assert _photos() == 2
    after = db.session.scalar(sa.select(Contribution).where(Contribution.id != before.id))
    assert client.get(f"/family/photos/{after.id}/photo").status_code == 200

    assert storage.exists(doomed)
    assert storage.retry_deletions() == 1 and not storage.exists(doomed)
    assert recorded_deletions([doomed]) == {doomed: ("replaced", None, True)}
