"""Who reports and aggregates may count: conditions on the people models that leave out the
restricted, objecting, erased and removed (P25, P26). The restriction feature
(app/dataprotection/rights/restriction.py) sets those marks; every feature that counts reads them here."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Pupil, User, UserStatus


def pupil_reportable():
    """A condition on :class:`Pupil`: counted in reports (not restricted, erased or removed)."""
    return sa.and_(Pupil.restricted_at.is_(None), Pupil.erased_at.is_(None), Pupil.removed_at.is_(None))


def parent_reportable():
    """A condition on :class:`User`: a carer counted in reports (no restriction, objection or
    erasure)."""
    return sa.and_(User.restricted_at.is_(None), User.objected_at.is_(None), User.status != UserStatus.ERASED)
