"""Rectification (P24): the office corrects a detail of a child's record or a parent's account,
and the correction is recorded with who, when and which field (never the values themselves: the
old value was wrong, and the new one is in the record).

Only fields the data inventory declares as personal can be corrected, and of those only the ones
a person can know to be wrong (:data:`CORRECTABLE`); ``tests/dataprotection/test_rectification.py`` checks the
list against the inventory.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.audit import log_event
from app.core.authz import is_office
from app.core.errors import ServiceError
from app.core.extensions import db
from app.core.phones import MESSAGE as MOBILE_MESSAGE
from app.core.phones import uk_mobile_e164
from app.dataprotection.rights.restriction import RestrictionError, request_for, schools_of
from app.families.roster_csv import email_address, upn_problem, year_group
from app.models import Pupil, RequestKind, SchoolClass, User, UserKind

CORRECTABLE = {
    "pupils": {
        "first_name": "First name",
        "last_name": "Last name",
        "year_group": "Year group",
        "class_id": "Class",
        "upn": "UPN",
        "pupil_premium": "Pupil Premium",
    },
    "users": {"name": "Name", "email": "Email address", "mobile": "Mobile number"},
}
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


class RectificationError(ServiceError):
    """A correction that cannot be made; ``message`` is for the office, ``field`` the input."""

    default_status = 422
    default_field = "value"


def fields_for(subject) -> dict[str, str]:
    """The correctable fields of a child's record or a parent's account: column → label."""
    return CORRECTABLE["pupils" if isinstance(subject, Pupil) else "users"]


def _text(raw: str, limit: int, label: str) -> str:
    value = " ".join((raw or "").split())
    if not value:
        raise RectificationError(f"Give the {label.lower()}.")
    if len(value) > limit:
        raise RectificationError(f"The {label.lower()} can be at most {limit} characters.")
    return value


def _pupil_value(pupil: Pupil, column: str, raw: str):
    raw = (raw or "").strip()
    if column in ("first_name", "last_name"):
        return _text(raw, 60, CORRECTABLE["pupils"][column])
    if column == "year_group":
        found = year_group(raw)
        if found is None:
            raise RectificationError("Give a year group such as R, 1 or Year 3.")
        return found
    if column == "class_id":
        class_id = db.session.scalar(
            sa.select(SchoolClass.id)
            .where(
                SchoolClass.organisation_id == pupil.organisation_id,
                sa.func.lower(SchoolClass.name) == raw.lower(),
            )
            .order_by(SchoolClass.academic_year.desc())
            .limit(1)
        )
        if class_id is None:
            raise RectificationError("Give the name of one of the school's classes.")
        return class_id
    if column == "upn":
        if not raw:
            return None
        upn = raw.upper().replace(" ", "")
        problem = upn_problem(upn)
        if problem:
            raise RectificationError(problem)
        if db.session.scalar(
            sa.select(Pupil.id).where(
                Pupil.organisation_id == pupil.organisation_id, Pupil.upn == upn, Pupil.id != pupil.id
            )
        ):
            raise RectificationError("Another pupil at the school already has this UPN.")
        return upn
    if raw.lower() in YES | NO:  # pupil_premium
        return raw.lower() in YES
    raise RectificationError("Answer yes or no.")


def _user_value(user: User, column: str, raw: str):
    raw = (raw or "").strip()
    if column == "name":
        return _text(raw, 120, "Name")
    other = user.mobile if column == "email" else user.email
    if not raw:
        if not other:
            raise RectificationError("A parent needs an email address or a mobile number.")
        return None
    if column == "email":
        found = email_address(raw)
        if found is None:
            raise RectificationError("Give a real email address, like name@example.com.")
        if db.session.scalar(
            sa.select(User.id).where(sa.func.lower(User.email) == found, User.id != user.id)
        ):
            raise RectificationError("Another account already uses this email address.")
        return found
    found = uk_mobile_e164(raw)
    if found is None:
        raise RectificationError(str(MOBILE_MESSAGE))
    return found


def rectify(subject, column: str, raw: str, actor: User, *, request_id: int | None = None) -> bool:
    """Correct one field of a child's record or a parent's account (one transaction), recorded
    in the activity log and, when done under a rectification request, in its trail. Returns
    False when the value was already right (nothing recorded)."""
    try:
        labels = fields_for(subject)
        if column not in labels:
            raise RectificationError("Choose a detail that can be corrected.", field="field")
        if isinstance(subject, User) and subject.kind is not UserKind.PARENT:
            raise RectificationError("Staff details are changed on the staff page.", 409)
        schools = schools_of(subject)
        if not schools or not any(is_office(actor, org) for org in schools):
            raise RectificationError("That record was not found.", 404)
        try:
            req = request_for(subject, actor, request_id, {RequestKind.RECTIFICATION})
        except RestrictionError as problem:
            raise RectificationError(problem.message, problem.status, "request_id") from None
        row = db.session.get_one(type(subject), subject.id, with_for_update=True, populate_existing=True)
        value = _pupil_value(row, column, raw) if isinstance(row, Pupil) else _user_value(row, column, raw)
        if getattr(row, column) == value:
            db.session.rollback()
            return False
        setattr(row, column, value)
        kind = "pupil" if isinstance(row, Pupil) else "user"
        log_event(
            "rectified",
            actor,
            subject=f"{kind}:{row.id}",
            detail=f"field={column}",
            organisation_id=req.organisation_id if req else min(o for o in schools if is_office(actor, o)),
        )
        if req is not None:
            from app.dataprotection.requests.workflow import record_event

            whose = "child's" if kind == "pupil" else "parent's"
            record_event(req, actor, req.state, req.state, f"Corrected the {whose} {labels[column].lower()}.")
        db.session.commit()
        return True
    except BaseException:
        db.session.rollback()
        raise
