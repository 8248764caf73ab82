"""Erasure and anonymisation (P23), driven by the data inventory.

:func:`preview` says, for a child or a parent, what will be deleted, what anonymised and what
kept, and why; :func:`erase` does it in one transaction. Every table that
:mod:`app.dataprotection.common.ownership` can walk for the person is handled by the inventory's own words:
a table whose rows are erased with ``Erasure.DELETE`` loses the person's rows; in any other
table each personal column is removed (``NULL``/``DELETE``), replaced (``PLACEHOLDER``) or kept
as a non-identifying figure (``KEEP``). The few departures are written down in ``SPECIAL``.

The school link of an erased child: the pupil row keeps its school, class and year group only
as the home of non-identifying figures (activities done, ratings, awards given), so the school's
totals still add up; nothing that identifies the child stays with it (no name, UPN, Pupil
Premium, carer, photo, comment, or request linking it to the person who asked).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.core import storage
from app.core.audit import log_event
from app.core.authz import carer_ids, is_office
from app.core.direct_reads import DirectRead
from app.core.errors import ServiceError
from app.core.extensions import db
from app.core.i18n import DEFAULT as DEFAULT_LANGUAGE
from app.core.transactions import transaction
from app.dataprotection.common.ownership import condition, t
from app.dataprotection.exports import service as exports
from app.dataprotection.exports.texts import SECTIONS, heading, plain
from app.dataprotection.rights.restriction import locked_request
from app.models import (
    Channel,
    ContributionKind,
    Guardianship,
    Organisation,
    PrivacyRequest,
    Pupil,
    RequestKind,
    RequestState,
    User,
    UserKind,
    UserStatus,
    utcnow,
)
from app.models.inventory import INVENTORY, RETENTION, Erasure

PLACEHOLDERS = {
    ("users", "name"): "Erased account",
    ("pupils", "first_name"): "Erased",
    ("pupils", "last_name"): "pupil",
}
TOMBSTONE_KEY = "erased"  # a published photo's tombstone (the row needs a photo key)

SPECIAL = {
    "contributions": "Published items are kept as an empty marker, never to be used again.",
    ("pupil", "consent_records"): "Kept as the carer's own record of what they agreed (P08), "
    "without the link to the child.",
    ("pupil", "privacy_requests"): "Kept as evidence of how the request was handled, without "
    "the link to the child's record.",
    ("user", "privacy_requests"): "Kept as evidence of how the request was handled.",
}
ACTION = {
    Erasure.NULL: "removed",
    Erasure.DELETE: "removed",
    Erasure.PLACEHOLDER: "replaced with a placeholder",
    Erasure.KEEP: "kept",
}


class ErasureError(ServiceError):
    """An erasure that cannot be done; ``message`` is for the office."""

    default_status = 409


@dataclass
class Line:
    """One line of the preview: a kind of record, how many, and what happens to them."""

    table: str
    title: str
    count: int
    outcome: str  # deleted | anonymised | kept
    details: list[str] = field(default_factory=list)
    why: str = ""


def _kind(subject) -> str:
    return "pupil" if isinstance(subject, Pupil) else "user"


def _where(table: str, subject):
    key = "pupil_id" if isinstance(subject, Pupil) else "user_id"
    return condition(table, **{key: subject.id})


def tables_for(subject) -> list[str]:
    """The inventory's tables that hold rows of this child or person, in inventory order."""
    return list(_tables_for(_kind(subject)))


@functools.cache
def _tables_for(kind: str) -> tuple[str, ...]:
    key = "pupil_id" if kind == "pupil" else "user_id"
    return tuple(name for name in INVENTORY if condition(name, **{key: 0}) is not None)


def _published(cond):
    c = t("contributions").c
    return sa.and_(cond, c.published_at.is_not(None))


@functools.cache
def _counts_statement(kind: str) -> tuple[DirectRead, tuple[str, ...]]:
    """The preview's one query (the rows of each table for ``:subject``, and the published
    contributions among them) and its column names; built once per process for each kind of
    subject (building its thirty-odd conditions cost more than running it) and read directly."""
    subject = sa.bindparam("subject", type_=sa.Integer)
    key = "pupil_id" if kind == "pupil" else "user_id"
    wanted: dict[str, tuple[str, sa.ColumnElement]] = {}
    for table in _tables_for(kind):
        cond = condition(table, **{key: subject})
        assert cond is not None  # _tables_for keeps only tables with a condition
        wanted[table] = (table, cond)
    if "contributions" in wanted:  # published ones stay as a marker
        wanted["published"] = ("contributions", _published(wanted["contributions"][1]))
    statement = sa.select(
        *(
            sa.select(sa.func.count()).select_from(t(table)).where(cond).scalar_subquery().label(name)
            for name, (table, cond) in wanted.items()
        )
    )
    return DirectRead(statement), tuple(wanted)


def _counts(subject) -> dict[str, int]:
    """The number of the subject's rows in each table (and ``published`` contributions), all in
    one query."""
    read, names = _counts_statement(_kind(subject))
    if not names:
        return {}
    (row,) = read.run({"subject": subject.id})
    return dict(zip(names, row, strict=True))  # one column per table


def preview(subject) -> list[Line]:
    """What erasing this child or parent would do, table by table, and why."""
    lines = []
    counts = _counts(subject)
    for table in tables_for(subject):
        count = counts[table]
        if not count:
            continue
        entry, title = INVENTORY[table], SECTIONS.get(table, (table.replace("_", " "),))[0]
        special = SPECIAL.get((_kind(subject), table))
        if special:
            lines.append(Line(table, title, count, "kept", why=special))
            continue
        if entry.erasure is Erasure.DELETE:
            published = counts["published"] if table == "contributions" else 0
            if count - published:
                lines.append(
                    Line(
                        table, title, count - published, "deleted", why=entry.erasure.value.capitalize() + "."
                    )
                )
            if published:
                lines.append(Line(table, title, published, "kept", why=SPECIAL["contributions"]))
            continue
        changed = [
            f"{heading(c)}: {ACTION[col.erasure]}"
            for c, col in entry.personal.items()
            if col.erasure is not Erasure.KEEP
        ]
        kept = [
            f"{heading(c)}: {col.purpose}" for c, col in entry.personal.items() if col.erasure is Erasure.KEEP
        ]
        why = (
            "Kept without identity: " + " ".join(kept)
            if kept
            else "The record stays without identity, so figures already counted still add up."
            if changed
            else RETENTION[entry.retention]
        )
        lines.append(Line(table, title, count, "anonymised" if changed else "kept", changed, why))
    return lines


def _cleared(table: str) -> dict:
    """The inventory's erasure of each personal column of a kept row."""
    values: dict[str, object] = {}
    for name, col in INVENTORY[table].personal.items():
        column = t(table).c[name]
        if col.erasure is Erasure.PLACEHOLDER:
            values[name] = PLACEHOLDERS[(table, name)]
        elif col.erasure in (Erasure.NULL, Erasure.DELETE):
            values[name] = None if column.nullable else (False if isinstance(column.type, sa.Boolean) else "")
    return values


def check(subject, actor: User, request_id: int | None = None) -> PrivacyRequest | None:
    """Refuse what may not be erased by ``actor`` (a 4xx :class:`ErasureError`); return the
    erasure request it is done under, if any."""
    schools = (
        {subject.organisation_id}
        if isinstance(subject, Pupil)
        else set(
            db.session.scalars(
                sa.select(Pupil.organisation_id)
                .join(Guardianship, Guardianship.pupil_id == Pupil.id)
                .where(Guardianship.parent_id == subject.id)
            )
        )
    )
    if isinstance(subject, User) and subject.kind is not UserKind.PARENT:
        raise ErasureError("Staff accounts are removed from the staff page, not erased here.")
    if not schools or not any(is_office(actor, org) for org in schools):
        raise ErasureError("That record was not found.", 404)
    if not all(is_office(actor, org) for org in schools):
        raise ErasureError(
            "This parent also has children at another school using Hometime. "
            "That school's office (or the trust's data protection officer) must "
            "erase the account."
        )
    if request_id is None:
        return None
    req, about = locked_request(subject, actor, request_id, ErasureError)
    if req.kind is not RequestKind.ERASURE or not about:
        raise ErasureError("That request is not a request to erase this record.", 422)
    if req.state is not RequestState.IN_PROGRESS:
        raise ErasureError("Check the requester's identity and put the request in progress first.")
    return req


def erase(subject, actor: User, *, request_id: int | None = None) -> str:
    """Erase a child (:class:`Pupil`) or a parent (:class:`User`) in one transaction, then delete
    their files and tell the requester. Erasing twice changes nothing. Returns what was done."""
    model = type(subject)
    subject = db.session.get(model, subject.id, with_for_update=True, populate_existing=True)
    if subject.erased_at if model is Pupil else subject.status is UserStatus.ERASED:
        db.session.rollback()
        return "Already erased: nothing left to do."
    with transaction():
        req = check(subject, actor, request_id)
        told = _audience(subject)
        org_id = subject.organisation_id if model is Pupil else told["org_id"]
        lines, rows, files = preview(subject), _rows(subject), _files(subject)
        storage.delete_after_commit(
            (
                part
                for key in files
                for part in (exports.stored_keys(key) if key.startswith("export/") else [key])
            ),
            reason="erasure",
            organisation_id=org_id,
        )
        for table, ids in rows.items():
            _apply(table, subject, ids)
        outcome = in_words(lines, model is Pupil)
        log_event("erased", actor, subject=f"{_kind(subject)}:{subject.id}", organisation_id=org_id)
        if req is not None:
            from app.dataprotection.requests.workflow import record_event

            record_event(req, actor, req.state, req.state, outcome)
        elif model is Pupil and told:
            from app.messaging.notify import notify

            notify(
                "erasure_completed",
                event_key=f"pupil:{subject.id}:erased",
                user_ids=told,
                organisation_id=org_id,
                context={"about": "child"},
            )
    _after(req, actor, outcome, told if model is User and req is None else None)
    return outcome


def in_words(lines: list[Line], child: bool) -> str:
    """What erasure did, for the family and the request's record: kinds of data, not counts."""

    def titles(outcome: str) -> str:
        found = [ln.title[0].lower() + ln.title[1:] for ln in lines if ln.outcome == outcome]
        return ", ".join(found[:-1]) + (" and " if len(found) > 1 else "") + found[-1] if found else ""

    said = ["The child's record was erased." if child else "The account was erased."]
    if deleted := titles("deleted"):
        said.append(f"Deleted: {deleted}.")
    if anonymised := titles("anonymised"):
        said.append(f"Kept without any name or other detail that identifies anyone: {anonymised}.")
    for line in (ln for ln in lines if ln.outcome == "kept"):
        said.append(f"{line.title}: {plain(line.why).rstrip('.')}.")
    return " ".join(said)


def _rows(subject) -> dict[str, list | None]:
    """Each table's rows of the person, fixed before anything changes (a path may go through a
    row that erasure changes, e.g. a request's link). None: a table without an id column."""
    found = {}
    for table in tables_for(subject):
        tbl = t(table)
        found[table] = (
            list(db.session.scalars(sa.select(tbl.c.id).where(_where(table, subject))))
            if "id" in tbl.c
            else None
        )
    found["data_exports"] = list(
        db.session.scalars(sa.select(t("data_exports").c.id).where(_exports(subject)))
    )
    return found


def _exports(subject):
    """Copies of data about the person, and (for a child) their carers' own copies, which may
    hold the child's photos."""
    e, cond = t("data_exports"), _where("data_exports", subject)
    if isinstance(subject, Pupil):
        carers = sa.select(Guardianship.parent_id).where(Guardianship.pupil_id == subject.id)
        cond = sa.or_(
            cond,
            e.c.request_id.in_(sa.select(PrivacyRequest.id).where(PrivacyRequest.requester_id.in_(carers))),
        )
    return cond


def _files(subject) -> list[str]:
    c, e = t("contributions").c, t("data_exports").c
    keys = db.session.execute(
        sa.select(c.photo_key, c.thumb_key).where(_where("contributions", subject))
    ).all()
    found = [k for pair in keys for k in pair if k and k != TOMBSTONE_KEY]
    return found + list(
        db.session.scalars(sa.select(e.file_key).where(_exports(subject), e.file_key.is_not(None)))
    )


def _audience(subject):
    if isinstance(subject, Pupil):
        return carer_ids(subject.id)
    org_id = db.session.scalar(
        sa.select(Pupil.organisation_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.parent_id == subject.id)
        .order_by(Guardianship.id)
        .limit(1)
    )
    return {"email": subject.email, "name": subject.name, "org_id": org_id, "language": subject.language}


def erase_contributions(cond, now) -> None:
    """The photos and comments matching ``cond`` go: those never published are deleted; a
    published one stays only as an empty never-use-again marker (P23), hidden and withdrawn."""
    tbl = t("contributions")
    db.session.execute(
        sa.update(tbl)
        .where(cond, tbl.c.published_at.is_not(None))
        .values(
            body=sa.case((tbl.c.kind == ContributionKind.COMMENT, ""), else_=None),
            photo_key=sa.case((tbl.c.kind == ContributionKind.PHOTO, TOMBSTONE_KEY), else_=None),
            thumb_key=None,
            promo_opt_in=False,
            author_id=None,
            never_use_again=True,
            promo_withdrawn_at=sa.func.coalesce(tbl.c.promo_withdrawn_at, now),
            hidden_at=sa.func.coalesce(tbl.c.hidden_at, now),
        )
    )
    db.session.execute(sa.delete(tbl).where(cond, tbl.c.published_at.is_(None)))


def _apply(table: str, subject, ids: list | None) -> None:
    tbl, kind, now = t(table), _kind(subject), utcnow()
    cond = _where(table, subject) if ids is None else tbl.c.id.in_(ids)
    if table == "contributions":
        erase_contributions(cond, now)
    elif (kind, table) == ("pupil", "consent_records"):
        db.session.execute(sa.update(tbl).where(cond).values(pupil_id=None))
    elif (kind, table) == ("pupil", "privacy_requests"):
        db.session.execute(sa.update(tbl).where(cond).values(subject_pupil_id=None))
    elif (kind, table) == ("user", "privacy_requests"):
        db.session.execute(sa.update(tbl).where(cond).values(requester_id=None))
    elif table == "request_events":
        pass  # kept with the request (inventory: KEEP)
    elif INVENTORY[table].erasure is Erasure.DELETE:
        db.session.execute(sa.delete(tbl).where(cond))
    elif values := _cleared(table):
        db.session.execute(sa.update(tbl).where(cond).values(**values))
    if table == "pupils":
        db.session.execute(
            sa.update(tbl)
            .where(cond)
            .values(erased_at=now, removed_at=sa.func.coalesce(tbl.c.removed_at, now))
        )
    elif table == "users":
        db.session.execute(
            sa.update(tbl)
            .where(cond)
            .values(
                status=UserStatus.ERASED,
                mfa_enabled_at=None,
                deactivated_at=now,
                deactivation_reason="erased",
                session_version=tbl.c.session_version + 1,
            )
        )


def _after(req, actor, outcome: str, erased: dict | None) -> None:
    """Complete the request (the workflow tells the requester), or tell an erased parent at the
    address they had (a child's carers were told in the transaction)."""
    if req is not None:
        from app.dataprotection.requests.workflow import RequestError, transition

        try:
            transition(req.id, RequestState.COMPLETED, actor=actor, note=outcome)
        except RequestError:
            pass  # erased all the same; the office completes the request by hand
    elif erased and erased["email"] and erased["org_id"]:
        from app.messaging.notify import send_now

        send_now(
            Channel.EMAIL,
            erased["email"],
            "erasure_completed",
            language=erased["language"] or DEFAULT_LANGUAGE,
            user=None,
            organisation=db.session.get(Organisation, erased["org_id"]),
            requester_name=erased["name"],
            about="self",
        )
        db.session.commit()
