"""Files (photos, exports) encrypted at rest by the application (P16).

A file is stored under a generated key such as ``photo/3qF...`` and its bytes are encrypted with
``cryptography``'s Fernet before they touch the disk. ``ENCRYPTION_KEYS`` holds comma-separated
Fernet keys, newest first: the newest encrypts, every one of them still decrypts, so a key can be
rotated by putting a new one in front and running ``flask --app wsgi storage rotate-keys``.

Files live under ``STORAGE_DIR`` (outside ``static/``), sharded as ``<prefix>/<2 chars>/<name>``,
and are written atomically (a temporary file, then ``os.replace``), so a reader never sees half a
file. Keys are validated before any path is built from them: no path traversal is possible.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, make_response
from flask.cli import AppGroup
from sqlalchemy.orm import Session

__all__ = [
    "put",
    "get",
    "delete",
    "delete_after_commit",
    "discard",
    "send_stored_file",
    "exists",
    "encrypt",
    "decrypt",
    "rotate_token",
    "rotate",
    "register_rotation",
    "init_cli",
    "InvalidKey",
    "InvalidToken",
    "RotationResult",
]

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"[a-z][a-z0-9-]{0,23}")
_NAME = re.compile(r"[A-Za-z0-9_-]{32}")
_KEY = re.compile(r"(?P<prefix>[a-z][a-z0-9-]{0,23})/(?P<name>[A-Za-z0-9_-]{32})")
_TMP = ".tmp-"


class InvalidKey(ValueError):
    """A storage key that this module could not have generated (and so names no file)."""


# --- encryption -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _fernets(keys: str) -> tuple[MultiFernet, Fernet]:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise RuntimeError("HOMETIME_ENCRYPTION_KEYS is empty: no key to encrypt with")
    try:
        fernets = [Fernet(k) for k in parts]
    except ValueError as exc:  # not 32 url-safe base64-encoded bytes
        raise RuntimeError(f"HOMETIME_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from None
    return MultiFernet(fernets), fernets[0]


def _keys() -> tuple[MultiFernet, Fernet]:
    keys = current_app.config.get("ENCRYPTION_KEYS")
    if not keys:
        raise RuntimeError("HOMETIME_ENCRYPTION_KEYS is not set")
    return _fernets(keys)


def encrypt(data: bytes) -> bytes:
    """Encrypt ``data`` with the newest configured key (a Fernet token, url-safe ASCII bytes)."""
    return _keys()[0].encrypt(data)


def decrypt(token: bytes) -> bytes:
    """Decrypt a token made by :func:`encrypt` with any configured key.

    Raises ``cryptography.fernet.InvalidToken`` (re-exported here) when no key opens it or it
    was tampered with.
    """
    return _keys()[0].decrypt(token)


def rotate_token(token: bytes) -> bytes:
    """Re-encrypt a token from :func:`encrypt` under the newest key (for values kept elsewhere,
    e.g. a database column); raises ``InvalidToken`` if no configured key opens it."""
    return _keys()[0].rotate(token)


# --- keys and paths -------------------------------------------------------------------------


def _root() -> Path:
    return Path(current_app.config["STORAGE_DIR"]).resolve()


def _path(key: str) -> Path:
    if not isinstance(key, str):
        raise InvalidKey("storage key must be a string")
    match = _KEY.fullmatch(key)
    if match is None:
        raise InvalidKey(f"not a storage key: {key[:100]!r}")
    root = _root()
    name = match["name"]
    path = root / match["prefix"] / name[:2] / name
    # The pattern already rules out "..", "/" and NUL; this is the belt to those braces.
    if root not in path.resolve().parents:
        raise InvalidKey(f"not a storage key: {key[:100]!r}")
    return path


def _write_atomic(path: Path, blob: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# --- the contract: put / get / delete -------------------------------------------------------


def put(data: bytes, *, prefix: str) -> str:
    """Encrypt and store ``data``; return its new, randomly generated key (``prefix/name``).

    ``prefix`` groups files by kind (``photo``, ``thumb``, ``export``): lower-case letters,
    digits and hyphens. The key is at most 57 characters long.
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(f"storage prefix must match {_PREFIX.pattern}: {prefix!r}")
    blob = encrypt(bytes(data))
    while True:
        key = f"{prefix}/{secrets.token_urlsafe(24)}"  # 192 random bits, 32 characters
        path = _path(key)
        if not path.exists():
            break
    _write_atomic(path, blob)
    return key


def get(key: str) -> bytes:
    """The decrypted bytes stored under ``key``.

    Raises :class:`InvalidKey` for a malformed key, ``FileNotFoundError`` when nothing is stored
    under it, and ``InvalidToken`` when no configured key decrypts it.
    """
    return decrypt(_path(key).read_bytes())


def exists(key: str) -> bool:
    """True when a file is stored under ``key`` (False for a malformed key)."""
    try:
        return _path(key).is_file()
    except InvalidKey:
        return False


def delete(key: str) -> None:
    """Remove the file stored under ``key``; nothing happens if it is already gone."""
    path = _path(key)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        # Waits for a rotation busy with this file, so it cannot write the file back afterwards.
        fcntl.flock(fd, fcntl.LOCK_EX)
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)


# --- the one way to answer with a stored file, and the one way to delete files ---------------

CACHE_CONTROL = "private, no-store"  # as for every signed-in page: never shared, never on disk

_SNIFF = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)


def _sniff(data: bytes) -> str:
    for magic, mimetype in _SNIFF:
        if data.startswith(magic):
            return mimetype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def send_stored_file(key: str | None, *, mimetype: str | None = None, filename: str | None = None):
    """The response for the file stored under ``key``, for a route that has already checked who
    may see it. Every authorised file response goes through here, so all of them share one cache
    rule (:data:`CACHE_CONTROL`) and one answer to a bad key: no key, a malformed key or no file
    under it answers a friendly 404, a file no configured key opens answers 410, both logged.
    ``mimetype`` defaults to what the bytes say; ``filename`` makes it a named inline file."""
    from app.core.error_pages import render_error

    if not key:
        return render_error(404)
    try:
        data = get(key)
    except (InvalidKey, FileNotFoundError):
        log.warning("storage: nothing stored under %r", str(key)[:100])
        return render_error(404, "This file is no longer here.")
    except InvalidToken:
        log.error("storage: no configured key decrypts %r", key)
        return render_error(410, "This file can no longer be opened. Please ask the school office.")
    response = make_response(data)
    response.mimetype = mimetype or _sniff(data)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if filename:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)[:100]
        response.headers["Content-Disposition"] = f'inline; filename="{safe}"'
    response.vary.add("Cookie")
    return response


_DELETE = "hometime_files_to_delete"


def delete_after_commit(keys) -> None:
    """Delete the files stored under ``keys`` once the current database transaction commits
    (nothing is deleted if it rolls back). Every deletion of a stored file that goes with a
    database change (erasure, retention, a replaced printable) goes through here, so a row never
    points at a file already gone. Empty keys are skipped."""
    from app.core.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, forgets these keys
    pending = session.info.setdefault(_DELETE, [])
    pending.extend(k for k in keys if k and k not in pending)
    session.info["hometime_files_app"] = current_app._get_current_object()


def discard(keys) -> None:
    """Delete files that no committed row refers to: an upload whose transaction failed or was
    never made (``delete_after_commit`` is for files that committed rows did refer to)."""
    for key in keys:
        if key:
            try:
                delete(key)
            except Exception:  # noqa: BLE001 - the orphan sweep removes it later
                log.exception("storage: could not discard %r; the orphan sweep will", key)


@sa.event.listens_for(Session, "after_commit")
def _delete_committed(session: Session) -> None:
    """Delete the committed transaction's files. Never raises (the commit has happened): a file
    that cannot be deleted now is logged and left to the orphan sweep."""
    keys, app = session.info.pop(_DELETE, None), session.info.pop("hometime_files_app", None)
    if not keys or app is None:
        return
    with app.app_context():
        for key in keys:
            try:
                delete(key)
            except Exception:  # noqa: BLE001 - after the commit nothing may fail the caller
                log.exception("storage: could not delete %r after the commit", key)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_deletions(session: Session, previous_transaction) -> None:
    """Any rollback of the whole transaction (even one that never reached the database)."""
    if previous_transaction.nested:
        return
    session.info.pop(_DELETE, None)
    session.info.pop("hometime_files_app", None)


# --- key rotation ---------------------------------------------------------------------------


@dataclass
class RotationResult:
    rotated: int = 0  # re-encrypted under the newest key in this call
    current: int = 0  # already under the newest key: left alone
    failed: int = 0  # no configured key opens them (logged with their path)
    more: bool = False  # stopped at ``batch``: call again to continue


def _stored_files(root: Path):
    for prefix in sorted(p for p in root.iterdir() if p.is_dir() and _PREFIX.fullmatch(p.name)):
        for shard in sorted(p for p in prefix.iterdir() if p.is_dir()):
            for path in sorted(shard.iterdir()):
                if _NAME.fullmatch(path.name) and path.is_file():
                    yield path


def rotate(batch: int | None = None, *, progress=None) -> RotationResult:
    """Re-encrypt every stored file that is not yet under the newest key (``MultiFernet.rotate``).

    Safe to stop at any moment and to run again: each file is replaced atomically, and files
    the newest key already opens are skipped. ``batch`` caps how many files this call rewrites
    (``result.more`` then says whether another call is needed, e.g. from a job with a time
    limit); ``None`` does them all. ``progress(result)`` is called after every 100 rewrites.
    """
    multi, newest = _keys()
    result = RotationResult()
    root = _root()
    if not root.is_dir():
        return result
    for path in _stored_files(root):
        if batch is not None and result.rotated >= batch:
            result.more = True
            break
        try:
            fh = open(path, "rb")  # noqa: SIM115 - held (and locked) while the file is replaced
        except FileNotFoundError:  # deleted while we walked
            continue
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # a concurrent delete() waits, then removes the new file
            try:
                if os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
                    continue  # deleted or replaced meanwhile
            except FileNotFoundError:
                continue
            token = fh.read()
            try:
                newest.decrypt(token)
                result.current += 1
                continue
            except InvalidToken:
                pass
            try:
                fresh = multi.rotate(token)
            except InvalidToken:
                log.error("storage: no configured key decrypts %s", path)
                result.failed += 1
                continue
            _write_atomic(path, fresh)
        result.rotated += 1
        if progress is not None and result.rotated % 100 == 0:
            progress(result)
    return result


storage_cli = AppGroup("storage", help="Encrypted file storage.")
_other_rotations: dict[str, object] = {}


def register_rotation(label: str, func) -> None:
    """Have ``rotate-keys`` also call ``func() -> int`` (values re-encrypted), for encrypted
    values kept outside the files, e.g. TOTP secrets in the database (use :func:`rotate_token`)."""
    _other_rotations[label] = func


@storage_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored file under the newest key in HOMETIME_ENCRYPTION_KEYS.

    Put the new key first, keep the old ones after it, run this, then drop the old keys.
    Interrupting it is harmless: run it again and it carries on where it stopped.
    """
    result = rotate(progress=lambda r: click.echo(f"re-encrypted {r.rotated} file(s) so far"))
    click.echo(
        f"Done: {result.rotated} re-encrypted, {result.current} already under the newest "
        f"key, {result.failed} unreadable."
    )
    for label, func in _other_rotations.items():
        click.echo(f"{label}: {func()} re-encrypted")
    if result.failed:
        raise click.ClickException(
            f"{result.failed} file(s) could not be decrypted with any configured key (see the "
            "log); do not drop the old keys yet."
        )


def init_cli(app) -> None:
    """Register ``flask storage rotate-keys`` on ``app`` (called from app/cli.py)."""
    app.cli.add_command(storage_cli)
