"""Housekeeping jobs."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.extensions import db
from app.jobs import job
from app.models import LoginToken, utcnow

log = logging.getLogger(__name__)


@job
def purge_expired_tokens() -> int:
    """Delete sign-in links and codes that have expired or been used; return how many."""
    result = db.session.execute(sa.delete(LoginToken).where(
        sa.or_(LoginToken.expires_at < utcnow(), LoginToken.used_at.is_not(None))))
    db.session.commit()
    log.info("purged %s expired or used sign-in tokens", result.rowcount)
    return result.rowcount
