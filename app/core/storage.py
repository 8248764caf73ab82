"""Files (photos, exports) encrypted by the application before they are stored (P16).

A file is stored under a generated key such as ``photo/3qF...`` and its bytes are encrypted with
``cryptography``'s Fernet before they leave the process: the store only ever holds ciphertext. ``ENCRYPTION_KEYS`` holds comma-separated
Fernet keys, newest first: the newest encrypts, every one of them still decrypts, so a key can be
rotated by putting a new one in front and running ``flask --app wsgi storage rotate-keys``.

Where the ciphertext goes:

- **An S3 bucket** whenever ``S3_BUCKET`` is set (``S3_ENDPOINT_URL`` for an S3-compatible service
  such as SeaweedFS, which ``make run`` and the tests start; unset for AWS; credentials from
  ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY`` or boto3's own chain). The object key is the
  storage key. Every web host and worker sees the same files.
- Otherwise a folder, ``STORAGE_DIR`` (outside ``static/``), sharded as
  ``<prefix>/<2 chars>/<name>`` and written atomically. This is where files were kept before the
  bucket; ``flask storage migrate`` copies them into it.

A store that cannot be reached raises :class:`StoreUnavailable` (the app answers 503, "busy,
try again"). Keys are validated before any path or object name is built from them.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    "StoreUnavailable",
    "sweep_orphans",
    "register_references",
    "migrate_from_dir",
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


class StoreUnavailable(RuntimeError):
    """The object store cannot be reached or answers with a server error: try again later."""


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


# --- the S3 bucket -----------------------------------------------------------------------------

_clients: dict = {}
_clients_lock = threading.Lock()


def s3_client(config):
    """A boto3 S3 client for ``config`` (an app's config or a dict with the ``S3_*`` settings),
    one per process and settings (boto3 clients are thread-safe). Short timeouts and few retries:
    a store that is down must turn into a quick 503, not a hung request."""
    import boto3
    from botocore.config import Config as BotoConfig

    settings = (
        config.get("S3_ENDPOINT_URL") or None,
        config.get("S3_REGION") or "us-east-1",
        config.get("S3_ACCESS_KEY_ID") or None,
        config.get("S3_SECRET_ACCESS_KEY") or None,
        os.getpid(),  # never share a client (its connection pool) across a fork
    )
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = boto3.client(
                "s3",
                endpoint_url=settings[0],
                region_name=settings[1],
                aws_access_key_id=settings[2],
                aws_secret_access_key=settings[3],
                config=BotoConfig(
                    connect_timeout=2,
                    read_timeout=30,
                    retries={"max_attempts": 2, "mode": "standard"},
                    # S3-compatible stores on one host name want path-style URLs; AWS picks its own.
                    s3={"addressing_style": "path" if settings[0] else "auto"},
                ),
            )
    return client


def _bucket() -> str | None:
    return current_app.config.get("S3_BUCKET") or None


@functools.cache
def _s3_errors():
    from botocore import exceptions as e

    return e.ClientError, (
        e.EndpointConnectionError,
        e.ConnectionClosedError,
        e.ConnectTimeoutError,
        e.ReadTimeoutError,
        e.HTTPClientError,
    )


def _s3_call(method: str, key: str | None = None, **kwargs):
    """One S3 call with the errors turned into this module's: no such key -> FileNotFoundError,
    unreachable or a server error -> StoreUnavailable."""
    client_error, down = _s3_errors()
    client = s3_client(current_app.config)
    try:
        return getattr(client, method)(Bucket=_bucket(), **({"Key": key} if key else {}), **kwargs)
    except down as exc:
        log.error("storage: the object store is unreachable (%s)", exc.__class__.__name__)
        raise StoreUnavailable(str(exc)) from None
    except client_error as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("NoSuchKey", "404", "NotFound") or status == 404:
            raise FileNotFoundError(key) from None
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
            log.error("storage: the object store answered %s %s", status, code)
            raise StoreUnavailable(f"{status} {code}") from None
        raise


def _check(key: str) -> str:
    if not isinstance(key, str):
        raise InvalidKey("storage key must be a string")
    if _KEY.fullmatch(key) is None:
        raise InvalidKey(f"not a storage key: {key[:100]!r}")
    return key


def _read(key: str) -> bytes:
    if _bucket():
        return _s3_call("get_object", _check(key))["Body"].read()
    return _path(key).read_bytes()


def _write(key: str, blob: bytes) -> None:
    if _bucket():
        _s3_call("put_object", _check(key), Body=blob, ContentType="application/octet-stream")
    else:
        _write_atomic(_path(key), blob)


def _listing(older_than: datetime | None = None):
    """Every stored key (with when it was last written), in key order."""
    if _bucket():
        token = None
        while True:
            page = _s3_call("list_objects_v2", **({"ContinuationToken": token} if token else {}))
            for item in page.get("Contents", []):
                if _KEY.fullmatch(item["Key"]) and (older_than is None or item["LastModified"] < older_than):
                    yield item["Key"], item["LastModified"]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]
    root = _root()
    if not root.is_dir():
        return
    for path in _stored_files(root):
        try:
            when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:
            continue
        if older_than is None or when < older_than:
            yield f"{path.parent.parent.name}/{path.name}", when


# --- the contract: put / get / delete -------------------------------------------------------


def put(data: bytes, *, prefix: str) -> str:
    """Encrypt and store ``data``; return its new, randomly generated key (``prefix/name``).

    ``prefix`` groups files by kind (``photo``, ``thumb``, ``export``): lower-case letters,
    digits and hyphens. The key is at most 57 characters long.
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(f"storage prefix must match {_PREFIX.pattern}: {prefix!r}")
    blob = encrypt(bytes(data))
    if _bucket():  # 192 random bits: a clash is never going to happen, and is not checked
        key = f"{prefix}/{secrets.token_urlsafe(24)}"
        _write(key, blob)
        return key
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
    under it, ``InvalidToken`` when no configured key decrypts it, and
    :class:`StoreUnavailable` when the store cannot be reached.
    """
    return decrypt(_read(key))


def exists(key: str) -> bool:
    """True when a file is stored under ``key`` (False for a malformed key)."""
    try:
        if _bucket():
            _s3_call("head_object", _check(key))
            return True
        return _path(key).is_file()
    except (InvalidKey, FileNotFoundError):
        return False


def delete(key: str) -> None:
    """Remove the file stored under ``key``; nothing happens if it is already gone."""
    if _bucket():
        _s3_call("delete_object", _check(key))
        log.info("storage: deleted %s", key)
        return
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


def delete_after_commit(keys, *, reason: str, organisation_id: int | None = None) -> None:
    """Delete the files stored under ``keys`` once the current database transaction commits
    (nothing is deleted if it rolls back). Every deletion of a stored file that goes with a
    database change (erasure, retention, a replaced printable) goes through here, so a row never
    points at a file already gone, and each is recorded (:class:`~app.models.FileDeletion`, in
    the same transaction; confirmed once the store has deleted the object; an unconfirmed one is
    retried by :func:`retry_deletions`). ``reason`` says why, in a word (``erasure``,
    ``retention``, ``replaced`` ...); ``organisation_id`` is the school whose office may see it.
    Empty keys are skipped."""
    from app.core.extensions import db
    from app.models import FileDeletion

    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, forgets these keys
    pending = session.info.setdefault(_DELETE, [])
    for key in keys:
        if key and key not in pending:
            pending.append(key)
            session.add(FileDeletion(key=key, reason=reason, organisation_id=organisation_id))
    session.info["hometime_files_app"] = current_app._get_current_object()  # type: ignore[attr-defined]


def _record_attempts(done: list[str], failed: list[str]) -> None:
    """Confirm the deletions the store carried out, count an attempt on the others: on a
    connection of its own, as this runs after the caller's commit."""
    from app.core.extensions import db
    from app.models import FileDeletion

    table = FileDeletion.__table__
    with db.engine.begin() as conn:
        for keys, values in ((done, {"deleted_at": sa.func.now()}), (failed, {})):
            if keys:
                conn.execute(
                    sa.update(table)
                    .where(table.c.key.in_(keys), table.c.deleted_at.is_(None))
                    .values(attempts=table.c.attempts + 1, **values)
                )


def _delete_each(keys: list[str]) -> tuple[list[str], list[str]]:
    done: list[str] = []
    failed: list[str] = []
    for key in keys:
        try:
            delete(key)
            done.append(key)
        except Exception:  # noqa: BLE001 - recorded as not yet done; retried by the sweep
            log.exception("storage: could not delete %r; it will be retried", key)
            failed.append(key)
    return done, failed


def retry_deletions(*, batch: int = 500) -> int:
    """Delete again the files whose recorded deletion the store has not confirmed (it was down
    after the commit). Returns how many are now confirmed."""
    from app.core.extensions import db
    from app.models import FileDeletion

    table = FileDeletion.__table__
    confirmed = 0
    while True:
        with db.engine.connect() as conn:
            keys = list(
                conn.scalars(
                    sa.select(table.c.key)
                    .where(table.c.deleted_at.is_(None))
                    .order_by(table.c.id)
                    .limit(batch)
                ).unique()
            )
        if not keys:
            return confirmed
        done, failed = _delete_each(keys)
        _record_attempts(done, failed)
        confirmed += len(done)
        if failed:  # the store is still down: try again at the next sweep
            return confirmed


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
    """Delete the committed transaction's files and confirm their recorded deletions. Never
    raises (the commit has happened): a file that cannot be deleted now stays recorded as not
    confirmed, and :func:`retry_deletions` (the nightly sweep) deletes it later."""
    keys, app = session.info.pop(_DELETE, None), session.info.pop("hometime_files_app", None)
    if not keys or app is None:
        return
    with app.app_context():
        done, failed = _delete_each(keys)
        try:
            _record_attempts(done, failed)
        except Exception:  # noqa: BLE001 - after the commit nothing may fail the caller
            log.exception("storage: could not record the deletion of %s file(s)", len(keys))


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


def _rotated(token: bytes, multi, newest, result: RotationResult, where) -> bytes | None:
    """``token`` under the newest key, or None when it needs no rewrite (already under the
    newest key) or cannot have one (no configured key opens it: logged and counted)."""
    try:
        newest.decrypt(token)
        result.current += 1
        return None
    except InvalidToken:
        pass
    try:
        return multi.rotate(token)
    except InvalidToken:
        log.error("storage: no configured key decrypts %s", where)
        result.failed += 1
        return None


def rotate(batch: int | None = None, *, progress=None) -> RotationResult:
    """Re-encrypt every stored file that is not yet under the newest key (``MultiFernet.rotate``).

    Safe to stop at any moment and to run again: each file is replaced atomically, and files
    the newest key already opens are skipped. ``batch`` caps how many files this call rewrites
    (``result.more`` then says whether another call is needed, e.g. from a job with a time
    limit); ``None`` does them all. ``progress(result)`` is called after every 100 rewrites.
    """
    multi, newest = _keys()
    result = RotationResult()
    if _bucket():
        return _rotate_bucket(multi, newest, result, batch, progress)
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
            fresh = _rotated(fh.read(), multi, newest, result, path)
            if fresh is None:
                continue
            _write_atomic(path, fresh)
        result.rotated += 1
        if progress is not None and result.rotated % 100 == 0:
            progress(result)
    return result


def _rotate_bucket(multi, newest, result: RotationResult, batch, progress) -> RotationResult:
    """Rotation in the bucket: each object read, re-encrypted and written back under its key
    (an S3 PUT replaces an object whole). An object deleted between the read and the write comes
    back as an orphan, which no row refers to, and :func:`sweep_orphans` removes it."""
    for key, _ in _listing():
        if batch is not None and result.rotated >= batch:
            result.more = True
            break
        try:
            token = _read(key)
        except FileNotFoundError:  # deleted while we walked
            continue
        fresh = _rotated(token, multi, newest, result, key)
        if fresh is None:
            continue
        _write(key, fresh)
        result.rotated += 1
        if progress is not None and result.rotated % 100 == 0:
            progress(result)
    return result


# --- orphans: stored files no row refers to ---------------------------------------------------

ORPHAN_AGE = timedelta(hours=24)  # longer than any upload or export build takes to commit
_references: dict[str, Callable[[list[str]], Iterable[str]]] = {}


def register_references(prefixes: tuple[str, ...], func) -> None:
    """Have :func:`sweep_orphans` ask ``func(keys) -> set`` which of a batch of stored keys with
    one of ``prefixes`` the database still refers to. Each feature that keeps keys in its rows
    registers its prefixes; files under a prefix nobody registered are never swept."""
    for prefix in prefixes:
        _references[prefix] = func


def _record_orphans(keys: list[str]) -> None:
    from app.core.extensions import db
    from app.models import FileDeletion

    if keys:
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(FileDeletion.__table__),
                [
                    {
                        "key": k,
                        "reason": "orphan",
                        "requested_at": datetime.now(UTC),
                        "deleted_at": datetime.now(UTC),
                        "attempts": 1,
                    }
                    for k in keys
                ],
            )


def sweep_orphans(min_age: timedelta = ORPHAN_AGE, *, batch: int = 500) -> int:
    """Delete stored files older than ``min_age`` that no registered reference claims: uploads
    whose transaction failed and whose discard failed too (the store was down), deletions that
    could not reach the store after their commit, files a rotation wrote back after a delete.
    Returns how many were deleted. Safe to run at any time and from several processes."""
    cutoff = datetime.now(UTC) - min_age
    deleted = 0

    def settle(keys: list[str]) -> int:
        claimed: set[str] = set()
        for func in set(_references.values()):
            claimed |= set(func(keys))
        gone = [k for k in keys if k not in claimed]
        for key in gone:
            delete(key)
        _record_orphans(gone)
        if gone:
            log.warning("storage: %s orphan file(s) deleted, e.g. %s", len(gone), gone[0])
        return len(gone)

    keys: list[str] = []
    for key, _ in _listing(older_than=cutoff):
        if key.split("/", 1)[0] not in _references:
            continue
        keys.append(key)
        if len(keys) >= batch:
            deleted += settle(keys)
            keys = []
    if keys:
        deleted += settle(keys)
    return deleted


# --- moving the files of the folder into the bucket -------------------------------------------


@dataclass
class MigrationResult:
    copied: int = 0  # copied into the bucket by this run
    present: int = 0  # already in the bucket (an earlier, interrupted run): left alone
    removed: int = 0  # local copies removed after their upload was checked


def migrate_from_dir(folder: str | os.PathLike | None = None, *, remove: bool = False, progress=None):
    """Copy every file of the storage folder into the bucket under the same key, as the same
    ciphertext (nothing is decrypted). Resumable and idempotent: a key already in the bucket with
    the same size is skipped, so an interrupted run simply runs again. With ``remove`` each local
    copy is deleted once the bucket holds it."""
    if not _bucket():
        raise RuntimeError("S3_BUCKET is not set: there is no bucket to move the files into")
    root = Path(folder or current_app.config["STORAGE_DIR"]).resolve()
    result = MigrationResult()
    if not root.is_dir():
        return result
    for path in _stored_files(root):
        key = f"{path.parent.parent.name}/{path.name}"
        blob = path.read_bytes()
        try:
            held = _s3_call("head_object", _check(key))["ContentLength"]
        except FileNotFoundError:
            held = None
        if held == len(blob):
            result.present += 1
        else:
            _write(key, blob)
            result.copied += 1
        if remove:
            path.unlink(missing_ok=True)
            result.removed += 1
        if progress is not None and (result.copied + result.present) % 100 == 0:
            progress(result)
    return result


storage_cli = AppGroup("storage", help="Encrypted file storage.")
_other_rotations: dict[str, Callable[[], int]] = {}


def register_rotation(label: str, func: Callable[[], int]) -> None:
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


@storage_cli.command("migrate")
@click.option("--from", "folder", default=None, help="The folder (default: STORAGE_DIR).")
@click.option("--remove", is_flag=True, help="Delete each local file once the bucket holds it.")
def migrate_command(folder, remove) -> None:
    """Move the files of the storage folder into the S3 bucket (resumable, idempotent)."""
    result = migrate_from_dir(
        folder, remove=remove, progress=lambda r: click.echo(f"{r.copied + r.present} file(s) so far")
    )
    click.echo(
        f"Done: {result.copied} copied, {result.present} already in the bucket, {result.removed} removed locally."
    )


@storage_cli.command("sweep-orphans")
@click.option("--hours", default=24, show_default=True, help="Only files at least this old.")
def sweep_command(hours) -> None:
    """Retry deletions the store has not confirmed, then delete stored files that no row refers
    to (left by failed writes)."""
    click.echo(f"{retry_deletions()} recorded deletion(s) retried and confirmed")
    click.echo(f"{sweep_orphans(timedelta(hours=hours))} orphan file(s) deleted")


def init_cli(app) -> None:
    """Register ``flask storage rotate-keys|migrate|sweep-orphans`` (called from app/cli.py)."""
    app.cli.add_command(storage_cli)
