"""The one-click unsubscribe's write: withdraw the NEWS consent (P09)."""

from __future__ import annotations

from app.core import audit, consent
from app.core.extensions import db
from app.core.transactions import transaction
from app.models import ConsentMethod, ConsentPurpose, User


def withdraw_news(user_id: int, organisation_id: int | None) -> bool:
    """Append a NEWS withdrawal unless news is already off; returns whether one was recorded.
    Committed."""
    with transaction():
        return _withdraw(user_id, organisation_id)


def _withdraw(user_id: int, organisation_id: int | None) -> bool:
    user = db.session.get(User, user_id)
    if user is None or not consent.has_consent(user_id, ConsentPurpose.NEWS):
        return False
    consent.record(
        user_id,
        ConsentPurpose.NEWS,
        False,
        method=ConsentMethod.EMAIL_LINK,
        organisation_id=organisation_id,
        on_behalf_of="self",
    )
    audit.log_event(
        "consent.withdrawn", user, detail="news: unsubscribe link", organisation_id=organisation_id
    )
    return True
