"""Consent: the append-only history (P01, P08) and the current state derived from it.

Every decision is a new ConsentRecord with the notice version in force; the current state of a
purpose is the latest record. Withdrawing is as easy as giving: the same call with granted=False.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on

from app.core.bulk import rows_changed
from app.core.extensions import db
from app.models import ConsentMethod, ConsentPurpose, ConsentRecord, Contribution, PrivacyNotice, utcnow


def current_notice(organisation_id: int | None = None) -> PrivacyNotice | None:
    """The privacy notice in force: the school's newest published one, else the platform's."""
    query = sa.select(PrivacyNotice).where(PrivacyNotice.published_at.is_not(None))
    for org in ([organisation_id] if organisation_id else []) + [None]:
        scoped = query.where(
            PrivacyNotice.organisation_id.is_(None) if org is None else PrivacyNotice.organisation_id == org
        )
        found = db.session.scalar(scoped.order_by(PrivacyNotice.published_at.desc()).limit(1))
        if found:
            return found
    return None


def record(
    user_id: int,
    purpose: ConsentPurpose,
    granted: bool,
    *,
    method: ConsentMethod,
    organisation_id: int | None = None,
    pupil_id: int | None = None,
    contribution_id: int | None = None,
    on_behalf_of: str | None = None,
    recorded_by_id: int | None = None,
) -> ConsentRecord:
    """Append one consent decision (added to the session; the caller commits).

    Withdrawing the general promotion opt-in also withdraws it from every photo and comment the
    person has given (P08)."""
    notice = current_notice(organisation_id)
    row = ConsentRecord(
        user_id=user_id,
        purpose=purpose,
        granted=granted,
        method=method,
        organisation_id=organisation_id,
        pupil_id=pupil_id,
        contribution_id=contribution_id,
        on_behalf_of=on_behalf_of,
        recorded_by_id=recorded_by_id,
        notice_id=notice.id if notice else None,
    )
    db.session.add(row)
    if purpose is ConsentPurpose.PROMO_PHOTOS and not granted:
        withdraw_all_promotion(user_id)
    return row


def withdraw_all_promotion(user_id: int) -> int:
    """Take every photo and comment this person sent out of promotional use, at once."""
    return rows_changed(
        sa.update(Contribution)
        .where(
            Contribution.author_id == user_id,
            Contribution.promo_opt_in.is_(True),
            Contribution.promo_withdrawn_at.is_(None),
        )
        .values(promo_opt_in=False, promo_withdrawn_at=utcnow())
    )


def latest(user_id: int, purpose: ConsentPurpose) -> ConsentRecord | None:
    return db.session.scalar(
        sa.select(ConsentRecord)
        .where(ConsentRecord.user_id == user_id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


def has_consent(user_id: int, purpose: ConsentPurpose) -> bool:
    """True only when the newest decision for ``purpose`` is a grant."""
    row = latest(user_id, purpose)
    return bool(row and row.granted)


def latest_decisions(user_id, leave_out: tuple[ConsentPurpose, ...] = ()) -> sa.Select:
    """(purpose, granted) of each purpose's latest decision for ``user_id``: an id, or a column
    (``User.id``) for a subquery correlated to the person's row (the user loader's). The purposes
    left out are compared one by one: ``not_in`` would be an expanding parameter, which
    SQLAlchemy rewrites into the statement's text on every execution."""
    return (
        sa.select(ConsentRecord.purpose, ConsentRecord.granted)
        .where(ConsentRecord.user_id == user_id, *(ConsentRecord.purpose != p for p in leave_out))
        .ext(distinct_on(ConsentRecord.purpose))
        .order_by(ConsentRecord.purpose, ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
    )


def states(rows) -> dict[ConsentPurpose, bool | None]:
    """Every purpose's state from (purpose, granted) pairs: None for a purpose never decided."""
    state: dict[ConsentPurpose, bool | None] = dict.fromkeys(ConsentPurpose)
    state.update({ConsentPurpose(purpose): granted for purpose, granted in rows})
    return state


def decisions(
    user_id: int, *, leave_out: tuple[ConsentPurpose, ...] = ()
) -> dict[ConsentPurpose, bool | None]:
    """Each purpose's latest decision for one person (None: never decided), in one query."""
    return states(db.session.execute(latest_decisions(user_id, leave_out)))


def current_state(user_id: int) -> dict[ConsentPurpose, bool]:
    """Every purpose's current state for one person (never decided: not given), in one query."""
    return {purpose: bool(granted) for purpose, granted in decisions(user_id).items()}


def history(user_id: int) -> list[ConsentRecord]:
    return list(
        db.session.scalars(
            sa.select(ConsentRecord)
            .where(ConsentRecord.user_id == user_id)
            .order_by(ConsentRecord.created_at, ConsentRecord.id)
        )
    )
