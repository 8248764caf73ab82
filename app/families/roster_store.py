"""An upload kept between preview and confirm, and an import's result: in Redis, never the cookie.

Each is stored under a random id together with the school and the member of staff it belongs to
(the key names both, so another school's office or another user simply finds nothing), encrypted
with the app's keys, compressed, and expires after an hour.
"""

from __future__ import annotations

import json
import re
import secrets
import zlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.core.redis_conn import get_redis
from app.families.roster_csv import Contact, ParsedFile, Row

TTL_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _fernet() -> MultiFernet:
    keys = current_app.config["ENCRYPTION_KEYS"].split(",")
    return MultiFernet([Fernet(k.strip()) for k in keys if k.strip()])


def _key(kind: str, organisation_id: int, user_id: int, token: str) -> str:
    return f"hometime:roster:{kind}:{organisation_id}:{user_id}:{token}"


def _put(kind: str, organisation_id: int, user_id: int, payload) -> str:
    token = secrets.token_urlsafe(24)
    blob = _fernet().encrypt(zlib.compress(json.dumps(payload, separators=(",", ":")).encode()))
    get_redis().set(_key(kind, organisation_id, user_id, token), blob, ex=TTL_SECONDS)
    return token


def _get(kind: str, token: str, organisation_id: int, user_id: int):
    if not token or not _TOKEN.match(token):
        return None
    blob = get_redis().get(_key(kind, organisation_id, user_id, token))
    if blob is None:
        return None
    try:
        return json.loads(zlib.decompress(_fernet().decrypt(blob)))
    except (InvalidToken, zlib.error, ValueError):
        return None


def save_upload(parsed: ParsedFile, organisation_id: int, user_id: int) -> str:
    """Keep a problem-free upload's rows for an hour; return its id."""
    rows = [
        [
            r.row,
            r.upn,
            r.first_name,
            r.last_name,
            r.class_name,
            r.year_group,
            r.pupil_premium,
            [[c.slot, c.name, c.email, c.mobile, c.relationship, c.no_contact] for c in r.contacts],
            r.home_language,
        ]
        for r in parsed.rows
    ]
    return _put("upload", organisation_id, user_id, {"rows": rows, "notices": parsed.notices})


def load_upload(token: str, organisation_id: int, user_id: int) -> ParsedFile | None:
    """The upload ``token`` of this user at this school, or None (unknown, expired, not theirs)."""
    data = _get("upload", token, organisation_id, user_id)
    if data is None:
        return None
    rows = [_row(r) for r in data["rows"]]
    return ParsedFile(rows, [], data["notices"])


def _row(r: list) -> Row:
    number, upn, first, last, class_name, year_group, premium = r[:7]
    return Row(
        number,
        upn,
        first,
        last,
        class_name,
        year_group,
        premium,
        # an upload kept before home languages were read has eight fields
        home_language=r[8] if len(r) > 8 else None,
        contacts=[Contact(*c) for c in r[7]],
    )


def discard_upload(token: str, organisation_id: int, user_id: int) -> None:
    """Forget an upload once it has been imported."""
    get_redis().delete(_key("upload", organisation_id, user_id, token))


def save_result(summary: dict, missing_ids: list[int], organisation_id: int, user_id: int) -> str:
    """Keep an import's counts and the ids of the pupils not in the file for an hour."""
    return _put("result", organisation_id, user_id, {"summary": summary, "missing": missing_ids})


def load_result(token: str, organisation_id: int, user_id: int) -> dict | None:
    """An import's result for the summary page, or None."""
    return _get("result", token, organisation_id, user_id)
