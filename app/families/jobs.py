"""Inviting every family not yet joined, in chunks, with progress the office can watch."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import job
from app.core.redis_conn import get_redis
from app.families import invitations
from app.models import Invitation, InvitationStatus, User, utcnow

log = logging.getLogger(__name__)
CHUNK = 500


def progress_key(organisation_id: int) -> str:
    return f"hometime:invite-all:{organisation_id}"


def progress(organisation_id: int) -> dict:
    raw = get_redis().hgetall(progress_key(organisation_id))
    return {_text(k): _text(v) for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    """The client answers bytes (it does not decode); redis-py's types allow either."""
    return value.decode() if isinstance(value, bytes) else value


def to_invite(organisation_id: int) -> list[User]:
    """Who "Invite everyone" would reach now: carers not joined who may be contacted, without a
    usable invitation already."""
    has_open = sa.exists(
        sa.select(Invitation.id).where(
            Invitation.user_id == User.id,
            Invitation.organisation_id == organisation_id,
            Invitation.status.in_([InvitationStatus.PENDING, InvitationStatus.SENT]),
            Invitation.expires_at > utcnow(),
        )
    )
    return list(db.session.scalars(invitations.not_joined(organisation_id).where(~has_open)))


def start(organisation_id: int, actor_id: int, channels: str) -> None:
    """Queue the fan-out (once per school at a time) and show it as started, with its total
    known from the start (the page never says "0 of 0")."""
    from app.core.jobs import enqueue_now

    total = len(to_invite(organisation_id))
    get_redis().hset(progress_key(organisation_id), mapping={"state": "queued", "total": total, "done": 0})
    enqueue_now(invite_everyone, organisation_id, actor_id, channels, job_id=f"invite-all-{organisation_id}")


@job
def invite_everyone(organisation_id: int, actor_id: int, channels: str = "email") -> int:
    """Invite every carer at the school who has not joined and may be contacted, skipping those
    with a usable invitation already. Safe to run twice: the second run finds nobody left."""
    from app.messaging.notify import notify

    redis = get_redis()
    key = progress_key(organisation_id)
    ids = [u.id for u in to_invite(organisation_id)]
    redis.hset(key, mapping={"state": "running", "total": len(ids), "done": 0})
    run = utcnow().strftime("%Y%m%d%H%M%S")
    for start_at in range(0, len(ids), CHUNK):
        chunk = ids[start_at : start_at + CHUNK]
        invitations.create_many(organisation_id, chunk, channels=channels, created_by_id=actor_id)
        notify(
            "invitation",
            event_key=f"invite-all:{organisation_id}:{run}",
            user_ids=chunk,
            organisation_id=organisation_id,
            context={"channels": channels},
        )
        db.session.commit()
        redis.hincrby(key, "done", len(chunk))
    redis.hset(key, "state", "finished")
    redis.expire(key, 60 * 60 * 24)
    log.info("invited %s families at organisation %s", len(ids), organisation_id)
    return len(ids)
