"""Aggregate engagement reports (P04, P13): counts only, never a child, and small groups hidden.

Pupil Premium status is used only here, for the aggregate comparison the notice promises. Any
figure about fewer than SMALL_GROUP pupils is suppressed, and so is any figure that would let a
suppressed one be worked out (secondary suppression), so no child can be singled out.
Restricted, removed and erased pupils are left out (P25).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.core.direct_reads import DirectRead
from app.models import Engagement, Pupil, SchoolClass, utcnow
from app.models.reportable import pupil_reportable

SMALL_GROUP = 5
WEEKS = 6


@dataclass
class Cell:
    pupils: int
    engaged: int
    hidden: bool = False  # set by suppress(): too small, or would let a small one be worked out

    @property
    def shown(self) -> bool:
        return not self.hidden

    @property
    def rate(self) -> int | None:
        """Percentage of pupils who did anything in the period, or None when suppressed."""
        return round(100 * self.engaged / self.pupils) if self.shown else None


def suppress(groups: list[list[Cell]]) -> None:
    """Hide every figure that is about a small group or would let one be worked out.

    Each group is a total followed by the parts that add up to it (a class: all pupils, then
    Pupil Premium and other pupils). Primary suppression hides every cell of fewer than
    SMALL_GROUP pupils. Secondary suppression: a group with exactly one hidden cell would give it
    away by subtraction (all minus other = Pupil Premium), so one more is hidden, the shown cell
    with the fewest pupils (a part before the total, so the larger figure stays). And a shown total
    where all or none of the pupils took part gives away the rate of a hidden part, so it is
    hidden too. A cell may sit in several groups; this repeats until nothing changes.
    """
    for group in groups:
        for cell in group:
            cell.hidden = cell.hidden or cell.pupils < SMALL_GROUP
    changed = True
    while changed:
        changed = False
        for total, *parts in groups:
            hidden = [c for c in (total, *parts) if c.hidden]
            if not hidden:
                continue
            if len(hidden) == 1:
                shown = [c for c in (*parts, total) if c.shown]  # parts first: ties keep the total
                min(shown, key=lambda c: c.pupils).hidden = changed = True
            if total.shown and total.engaged in (0, total.pupils):
                total.hidden = changed = True


@functools.cache
def _by_class_read() -> DirectRead:
    """``engagement_by_class``'s counts (pupils, and those who did something since ``:since``,
    per class and Pupil Premium or not), compiled once per process."""
    engaged = sa.exists(
        sa.select(Engagement.id).where(
            Engagement.pupil_id == Pupil.id,
            Engagement.done_at >= sa.bindparam("since", type_=Engagement.done_at.type),
        )
    )
    return DirectRead(
        sa.select(
            SchoolClass.name,
            Pupil.pupil_premium,
            sa.func.count(Pupil.id),
            sa.func.count(Pupil.id).filter(engaged),
        )
        .join(Pupil, (Pupil.class_id == SchoolClass.id) & pupil_reportable())
        .where(SchoolClass.organisation_id == sa.bindparam("organisation_id", type_=sa.Integer))
        .group_by(SchoolClass.name, Pupil.pupil_premium)
        .order_by(SchoolClass.name)
    )


def engagement_by_class(organisation_id: int) -> list[tuple[str, Cell, Cell, Cell]]:
    """Per class: all pupils, Pupil Premium pupils, other pupils, each a Cell, with small groups
    and the figures that would give them away hidden (:func:`suppress`)."""
    since = utcnow() - timedelta(weeks=WEEKS)
    rows = _by_class_read().run({"organisation_id": organisation_id, "since": since})
    table: dict[str, dict[bool, Cell]] = {}
    for name, premium, pupils, done in rows:
        table.setdefault(name, {})[premium] = Cell(pupils, done)
    result = []
    for name, cells in table.items():
        pp, other = cells.get(True, Cell(0, 0)), cells.get(False, Cell(0, 0))
        result.append((name, Cell(pp.pupils + other.pupils, pp.engaged + other.engaged), pp, other))
    suppress([[everyone, pp, other] for _, everyone, pp, other in result])
    return result
