"""Aggregate engagement reports (P04, P13): counts only, never a child, and small groups hidden.

Pupil Premium status is used only here, for the aggregate comparison the notice promises. Any
figure about fewer than SMALL_GROUP pupils is suppressed, so no child can be singled out.
Restricted, removed and erased pupils are left out (P25).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Engagement, Pupil, SchoolClass, utcnow
from app.services.restriction import pupil_reportable

SMALL_GROUP = 5
WEEKS = 6


@dataclass
class Cell:
    pupils: int
    engaged: int

    @property
    def shown(self) -> bool:
        return self.pupils >= SMALL_GROUP

    @property
    def rate(self) -> int | None:
        """Percentage of pupils who did anything in the period, or None when suppressed."""
        return round(100 * self.engaged / self.pupils) if self.shown else None


def engagement_by_class(organisation_id: int) -> list[tuple[str, Cell, Cell, Cell]]:
    """Per class: all pupils, Pupil Premium pupils, other pupils — each a Cell."""
    since = utcnow() - timedelta(weeks=WEEKS)
    engaged = sa.exists(sa.select(Engagement.id).where(Engagement.pupil_id == Pupil.id,
                                                       Engagement.done_at >= since))
    rows = db.session.execute(
        sa.select(SchoolClass.name, Pupil.pupil_premium, sa.func.count(Pupil.id),
                  sa.func.count(Pupil.id).filter(engaged))
        .join(Pupil, (Pupil.class_id == SchoolClass.id) & pupil_reportable())
        .where(SchoolClass.organisation_id == organisation_id)
        .group_by(SchoolClass.name, Pupil.pupil_premium).order_by(SchoolClass.name)).all()
    table: dict[str, dict[bool, Cell]] = {}
    for name, premium, pupils, done in rows:
        table.setdefault(name, {})[premium] = Cell(pupils, done)
    result = []
    for name, cells in table.items():
        pp, other = cells.get(True, Cell(0, 0)), cells.get(False, Cell(0, 0))
        result.append((name, Cell(pp.pupils + other.pupils, pp.engaged + other.engaged), pp, other))
    return result
