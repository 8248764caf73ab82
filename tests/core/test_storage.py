"""Encrypted file storage: files are unreadable on disk without the key (P16), keys rotate, and a
storage key can never reach a file outside the storage directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from app.core import storage

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
SECRET = b"Mia, Year 2, photo of her volcano \x00\xff" * 50


@pytest.fixture()
def files(app, ctx, tmp_path, monkeypatch):
    """An empty storage directory of our own, and key A alone."""
    root = tmp_path / "files"
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(root))
    monkeypatch.setitem(app.config, "S3_BUCKET", None)  # the folder (the bucket: test_object_store.py)
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", KEY_A)
    return root


def _on_disk(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.promise("P16")
def test_round_trip_and_the_file_on_disk_is_ciphertext(files):
    key = storage.put(SECRET, prefix="photo")
    assert key.startswith("photo/") and len(key) <= 80  # fits Contribution.photo_key
    assert storage.get(key) == SECRET
    assert storage.exists(key)

    [path] = _on_disk(files)
    raw = path.read_bytes()
    assert SECRET[:20] not in raw and b"volcano" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Fernet(KEY_A).decrypt(raw) == SECRET  # it is a Fernet token under the app's key
    with pytest.raises(InvalidToken):
        Fernet(KEY_B).decrypt(raw)  # and nobody without that key can read it


def test_every_put_gets_a_new_random_key_and_leaves_no_temporary_file(files):
    keys = {storage.put(b"same bytes", prefix="thumb") for _ in range(5)}
    assert len(keys) == 5
    assert all(p.name in {k.rsplit("/", 1)[1] for k in keys} for p in _on_disk(files))
    assert not [p for p in files.rglob(".tmp-*")]


@pytest.mark.promise("P16")
def test_a_server_configured_with_another_key_cannot_read_the_files(app, files, monkeypatch):
    key = storage.put(SECRET, prefix="export")
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", KEY_B)
    with pytest.raises(InvalidToken):
        storage.get(key)


def test_encrypt_and_decrypt_helpers_round_trip(files):
    token = storage.encrypt(b"JBSWY3DPEHPK3PXP")
    assert b"JBSWY3DP" not in token
    assert storage.decrypt(token) == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidToken):
        storage.decrypt(token[:-3] + b"AAA")


def test_delete_removes_the_file_and_is_idempotent(files):
    key = storage.put(SECRET, prefix="photo")
    other = storage.put(b"keep me", prefix="photo")
    storage.delete(key)
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.get(key)
    assert storage.get(other) == b"keep me"
    assert len(_on_disk(files)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "photo/../../../etc/passwd",
        "/etc/passwd",
        "photo//etc/passwd",
        "photo/" + "../" * 10 + "x",
        "photo/..%2F..%2Fsecret",
        "photo\\..\\..\\secret",
        "photo/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",
        "photo/" + "a" * 31 + "\x00",
        "Photo/" + "a" * 32,
        "photo/" + "a" * 33,
        "photo/" + "a" * 31 + ".",
        "../secret/" + "a" * 32,
        "",
        "photo",
    ],
)
def test_keys_that_could_escape_the_storage_directory_are_refused(files, bad):
    outside = files.parent / "secret"
    outside.write_bytes(b"not yours")
    for call in (storage.get, storage.delete):
        with pytest.raises(storage.InvalidKey):
            call(bad)
    assert not storage.exists(bad)
    assert outside.read_bytes() == b"not yours"


def test_non_string_keys_and_bad_prefixes_are_refused(files):
    with pytest.raises(storage.InvalidKey):
        storage.get(None)
    for prefix in ("", "../x", "a/b", "UPPER", "x" * 30):
        with pytest.raises(ValueError):
            storage.put(b"x", prefix=prefix)
    assert _on_disk(files) == []


def test_default_storage_directory_is_outside_static(app):
    from app.core.config import Config

    static = Path(app.static_folder).resolve()
    root = Path(Config.STORAGE_DIR).resolve()
    assert root != static and static not in root.parents


@pytest.mark.promise("P16")
def test_rotation_re_encrypts_every_file_under_the_new_key(app, files, monkeypatch):
    keys = [storage.put(SECRET + bytes([i]), prefix=("photo", "thumb", "export")[i % 3]) for i in range(7)]
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    assert storage.get(keys[0]) == SECRET + b"\x00"  # old key still decrypts before rotation

    first = storage.rotate(batch=3)
    assert (first.rotated, first.more) == (3, True)  # stopped part-way: safe to run again
    rest = storage.rotate()
    assert (rest.rotated, rest.current, rest.failed, rest.more) == (4, 3, 0, False)
    again = storage.rotate()
    assert (again.rotated, again.current) == (0, 7)  # a rerun rewrites nothing

    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", KEY_B)  # the old key dropped
    assert [storage.get(k) for k in keys] == [SECRET + bytes([i]) for i in range(7)]
    for path in _on_disk(files):
        with pytest.raises(InvalidToken):
            Fernet(KEY_A).decrypt(path.read_bytes())
    assert not [p for p in files.rglob(".tmp-*")]


def test_rotate_token_for_values_kept_in_the_database(app, files, monkeypatch):
    token = storage.encrypt(b"totp secret")
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    fresh = storage.rotate_token(token)
    assert Fernet(KEY_B).decrypt(fresh) == b"totp secret"
    with pytest.raises(InvalidToken):
        Fernet(KEY_A).decrypt(fresh)


def test_rotate_keys_command(app, files, monkeypatch):
    for _ in range(2):
        storage.put(SECRET, prefix="photo")
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    monkeypatch.setitem(storage._other_rotations, "TOTP secrets", lambda: 3)
    runner = app.test_cli_runner()
    result = runner.invoke(storage.storage_cli, ["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "2 re-encrypted, 0 already under the newest key, 0 unreadable" in result.output
    assert "TOTP secrets: 3 re-encrypted" in result.output

    # A file no configured key opens is reported, and the command fails so nobody drops old keys.
    stray = files / "photo" / "zz" / ("z" * 32)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(Fernet(Fernet.generate_key()).encrypt(b"lost"))
    result = runner.invoke(storage.storage_cli, ["rotate-keys"])
    assert result.exit_code != 0
    assert "0 re-encrypted, 2 already under the newest key, 1 unreadable" in result.output
    assert "do not drop the old keys" in result.output


def test_rotation_with_no_files_yet(files):
    result = storage.rotate()
    assert (result.rotated, result.current, result.failed) == (0, 0, 0)
    assert not os.path.exists(files)


# --- the one file response and the one deletion ------------------------------------------------


def test_send_stored_file_answers_one_way_for_every_file(app, files, caplog):
    key = storage.put(b"\xff\xd8\xff" + b"jpeg bytes", prefix="photo")
    with app.test_request_context():
        ok = storage.send_stored_file(key)
        missing = storage.send_stored_file("photo/" + "A" * 32)
        malformed = storage.send_stored_file("../../etc/passwd")
        none = storage.send_stored_file(None)
    assert ok.status_code == 200 and ok.get_data() == b"\xff\xd8\xff" + b"jpeg bytes"
    assert ok.mimetype == "image/jpeg" and ok.headers["Cache-Control"] == "private, no-store"
    assert [r.status_code for r in (missing, malformed, none)] == [404, 404, 404]
    assert "no longer here" in missing.get_data(as_text=True)
    assert "nothing stored under" in caplog.text


def test_send_stored_file_answers_410_for_a_file_no_key_opens(app, files, monkeypatch, caplog):
    key = storage.put(b"%PDF-1.4 worksheet", prefix="pdf")
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", KEY_B)
    with app.test_request_context():
        response = storage.send_stored_file(key, mimetype="application/pdf", filename="w.pdf")
    assert response.status_code == 410 and "can no longer be opened" in response.get_data(as_text=True)
    assert "no configured key decrypts" in caplog.text


def test_delete_after_commit_deletes_only_when_the_transaction_commits(app, files):
    from app.core.extensions import db

    kept, gone = storage.put(b"kept", prefix="photo"), storage.put(b"gone", prefix="photo")
    storage.delete_after_commit([kept, None], reason="test")
    db.session.rollback()
    storage.delete_after_commit([gone], reason="test")
    assert storage.exists(gone)  # not before the commit
    db.session.commit()
    assert storage.exists(kept) and not storage.exists(gone)
