"""Stored files in the S3 bucket, against the suite's real SeaweedFS: the store holds only
ciphertext (P16), keys rotate in place, files move over from the old folder, a store that is down
answers "busy" with nothing half-written, and orphans are swept."""
# ruff: noqa: F811 - pytest fixtures imported and used as arguments

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from app.core import storage
from app.core.extensions import db
from app.models import Contribution, FileDeletion
from tests import factories as f
from tests.learning.test_parents_photos import _send
from tests.parents_data import family, item_of, jpeg_with_gps
from tests.services import bucket_objects

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
SECRET = b"Mia, Year 2, photo of her volcano " * 40


@pytest.fixture()
def key_a(app, files, monkeypatch):
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", KEY_A)
    return files


@pytest.fixture()
def store_down(app, monkeypatch):
    """Point the app at a port where nothing listens: the store is unreachable."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", f"http://127.0.0.1:{port}")


@pytest.mark.promise("P16")
def test_the_bucket_holds_only_ciphertext_under_the_storage_key(key_a):
    key = storage.put(SECRET, prefix="photo")
    assert storage.get(key) == SECRET and storage.exists(key)
    [(name, blob)] = bucket_objects(key_a).items()
    assert name == key and b"volcano" not in blob
    assert Fernet(KEY_A).decrypt(blob) == SECRET
    with pytest.raises(InvalidToken):
        Fernet(KEY_B).decrypt(blob)
    storage.delete(key)
    storage.delete(key)  # already gone: nothing happens
    assert bucket_objects(key_a) == {} and not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.get(key)


@pytest.mark.promise("P16")
def test_rotate_keys_re_encrypts_every_object_in_the_bucket(app, key_a, monkeypatch):
    keys = [storage.put(SECRET + bytes([i]), prefix=("photo", "thumb", "export")[i % 3]) for i in range(5)]
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    first = storage.rotate(batch=2)
    assert (first.rotated, first.more) == (2, True)
    result = app.test_cli_runner().invoke(storage.storage_cli, ["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "3 re-encrypted, 2 already under the newest key, 0 unreadable" in result.output
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", KEY_B)  # the old key dropped
    assert [storage.get(k) for k in keys] == [SECRET + bytes([i]) for i in range(5)]
    for blob in bucket_objects(key_a).values():
        with pytest.raises(InvalidToken):
            Fernet(KEY_A).decrypt(blob)


def test_files_move_from_the_folder_into_the_bucket_resumably(app, key_a, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "files"))
    monkeypatch.setitem(app.config, "S3_BUCKET", None)
    on_disk = [storage.put(SECRET + bytes([i]), prefix="photo") for i in range(3)]
    monkeypatch.setitem(app.config, "S3_BUCKET", key_a["S3_BUCKET"])
    runner = app.test_cli_runner()
    storage.migrate_from_dir()  # an earlier run (imagine it was interrupted after these)
    result = runner.invoke(storage.storage_cli, ["migrate", "--remove"])
    assert result.exit_code == 0, result.output
    assert "0 copied, 3 already in the bucket, 3 removed locally" in result.output
    assert [storage.get(k) for k in on_disk] == [SECRET + bytes([i]) for i in range(3)]
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    again = runner.invoke(storage.storage_cli, ["migrate"])
    assert "Done: 0 copied, 0 already in the bucket" in again.output


def test_a_store_that_is_down_answers_busy_and_nothing_is_half_written(client, files, store_down):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    response = _send(client, fam.ben, item, jpeg_with_gps())
    assert response.status_code == 503
    assert "busy" in response.get_data(as_text=True) and "Retry-After" in response.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0
    assert client.get("/family/").status_code == 200  # pages that need no file keep working


def test_a_photo_missing_from_the_store_is_a_friendly_404_and_a_damaged_one_410(client, files, caplog):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    assert _send(client, fam.ben, item, jpeg_with_gps()).status_code == 303
    photo = db.session.scalar(sa.select(Contribution))
    assert client.get(f"/family/photos/{photo.id}/photo").status_code == 200

    from app.core.storage import s3_client

    s3 = s3_client(files)
    s3.put_object(Bucket=files["S3_BUCKET"], Key=photo.thumb_key, Body=b"not a token")
    s3.delete_object(Bucket=files["S3_BUCKET"], Key=photo.photo_key)
    gone = client.get(f"/family/photos/{photo.id}/photo")
    damaged = client.get(f"/family/photos/{photo.id}/thumb")
    assert gone.status_code == 404 and "no longer here" in gone.get_data(as_text=True)
    assert damaged.status_code == 410 and "can no longer be opened" in damaged.get_data(as_text=True)
    assert "nothing stored under" in caplog.text and "no configured key decrypts" in caplog.text


def test_the_sweep_deletes_only_files_no_row_refers_to(client, files):
    from datetime import timedelta

    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    assert _send(client, fam.ben, item, jpeg_with_gps()).status_code == 303
    photo = db.session.scalar(sa.select(Contribution))
    for prefix in ("photo", "thumb", "pdf", "export"):
        storage.put(b"left by a failed commit", prefix=prefix)
    assert storage.sweep_orphans(timedelta(hours=1)) == 0  # too young: may be committing right now
    result = client.application.test_cli_runner().invoke(
        storage.storage_cli, ["sweep-orphans", "--hours", "0"]
    )
    assert "4 orphan file(s) deleted" in result.output
    swept = db.session.scalars(sa.select(FileDeletion).where(FileDeletion.reason == "orphan")).all()
    assert len(swept) == 4 and all(row.deleted_at for row in swept)
    assert set(bucket_objects(files)) == {photo.photo_key, photo.thumb_key}
    assert client.get(f"/family/photos/{photo.id}/photo").status_code == 200


def test_a_deletion_the_store_missed_after_the_commit_is_swept_later(app, files, monkeypatch, caplog):

    key = storage.put(SECRET, prefix="photo")
    endpoint = app.config["S3_ENDPOINT_URL"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", f"http://127.0.0.1:{s.getsockname()[1]}")
    storage.delete_after_commit([key], reason="test")
    db.session.commit()  # the commit stands although the store could not be reached
    assert "could not delete" in caplog.text
    row = db.session.scalar(sa.select(FileDeletion).where(FileDeletion.key == key))
    assert (row.reason, row.deleted_at, row.attempts) == ("test", None, 1)  # recorded, not done
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", endpoint)
    assert storage.exists(key)
    assert storage.retry_deletions() == 1 and not storage.exists(key)
    db.session.refresh(row)
    assert row.deleted_at is not None and row.attempts == 2
    assert storage.retry_deletions() == 0  # nothing left to retry
