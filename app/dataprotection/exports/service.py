"""Access and portability exports (P22, P26, P31, P16): the lifecycle.

The office starts an export for an access or portability request; an RQ job
(:func:`app.dataprotection.exports.jobs.build_export`) writes the zip (:mod:`app.dataprotection.exports.zip`, driven
by the data inventory and :mod:`app.dataprotection.common.ownership`) and stores it encrypted. Every built
copy waits in REVIEW: the office reads it, and where it holds something of another family (a
comment naming another child of the class, a photo flagged as showing other children) keeps each
such item, blanks out the names in it or leaves it out, with the exemption relied on; then it
releases the copy (a change rebuilds the zip first). Who reviewed and when is recorded. Then it is READY for seven days, and only
the requester (after a fresh sign-in) or the school's office can download it; each download is
logged and counted. Retention's ``expire_exports`` rule deletes it after that.

The zip is stored encrypted in parts (:mod:`app.dataprotection.exports.files`).
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.core import storage
from app.core.audit import log_event
from app.core.authz import is_office
from app.core.direct_reads import DirectRead
from app.core.errors import ServiceError
from app.core.extensions import db
from app.dataprotection.common.ownership import person_schools
from app.dataprotection.exports.files import (  # noqa: F401 - for callers
    manifest,
    read_entry,
    store,
    stored_keys,
    stream,
)
from app.models import (
    DataExport,
    ExportState,
    PrivacyRequest,
    Pupil,
    RequestEvent,
    RequestKind,
    RequestState,
    User,
    bound_list,
    one_of,
    utcnow,
)

log = logging.getLogger(__name__)

KEEP_DAYS = 7
BUILD_JOB = "app.dataprotection.exports.jobs.build_export"
LIVE = (ExportState.QUEUED, ExportState.BUILDING, ExportState.REVIEW, ExportState.READY)
EXPORT_KINDS = (RequestKind.ACCESS, RequestKind.PORTABILITY)


@functools.cache
def _waiting_read() -> DirectRead:
    return DirectRead(
        sa.select(PrivacyRequest, Pupil.first_name, Pupil.last_name)
        .outerjoin(Pupil, Pupil.id == PrivacyRequest.subject_pupil_id)
        .where(
            PrivacyRequest.organisation_id == sa.any_(bound_list("schools", sa.Integer)),
            one_of(PrivacyRequest.kind, EXPORT_KINDS),
            PrivacyRequest.state == RequestState.IN_PROGRESS,
        )
        .order_by(PrivacyRequest.due_on, PrivacyRequest.id)
    )


def waiting_for_a_copy(organisation_ids: list[int]) -> list[tuple[PrivacyRequest, str | None, str | None]]:
    """These schools' access and portability requests in progress, by deadline, each with the
    child's first and last name when it is about a child: one direct read, built once."""
    return _waiting_read().run({"schools": list(organisation_ids)})


@functools.cache
def _made_read() -> DirectRead:
    return DirectRead(
        sa.select(DataExport, PrivacyRequest)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .where(PrivacyRequest.organisation_id == sa.any_(bound_list("schools", sa.Integer)))
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
        .limit(200)
    )


def made_for(organisation_ids: list[int]) -> list[tuple[DataExport, PrivacyRequest]]:
    """These schools' last 200 copies of data, newest first, each with its request."""
    return _made_read().run({"schools": list(organisation_ids)})


class ExportError(ServiceError):
    """An export that cannot be made or handed out; ``message`` is for the person."""

    default_status = 409


@dataclass(frozen=True)
class Subject:
    """Whose data an export holds: a person's own (``user_id``) or a child's (``pupil_id``)."""

    organisation_id: int
    user_id: int | None
    pupil_id: int | None
    requester_id: int | None
    email: str | None = None  # a requester without an account: their requests, by address
    request_id: int | None = None  # one with neither account nor address: this request alone
    whole_account: bool = False  # the person is this school's alone: account-wide rows too


def subject_for(req: PrivacyRequest) -> Subject:
    """The subject of a request: the linked child (P28), or the requester themself. A requester
    without an account (the public form, a letter) is matched to an account by the address the
    office checked, so a former parent gets their data too; one who gave no address and has no
    account (a letter) gets this request's own record. Only an account that is this school's
    person (a family of its pupils, or its staff) is the school's to export (P12): anyone
    else's is treated as a requester without an account here. The account's rows of no school
    (sign-ins, settings) are exported only when the person is this school's alone."""
    if req.on_behalf_of == "child":  # no child any more (erased): nothing of theirs is held
        return Subject(req.organisation_id, None, req.subject_pupil_id or 0, req.requester_id)
    user_id, email = req.requester_id, (req.requester_email or "").lower() or None
    if user_id is not None and req.organisation_id not in person_schools(user_id):
        user_id = None
    if user_id is None and email:
        found = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email))
        user_id = found if found and req.organisation_id in person_schools(found) else None
    whole = user_id is not None and person_schools(user_id) == {req.organisation_id}
    return Subject(
        req.organisation_id,
        user_id,
        None,
        user_id,
        email,
        req.id if user_id is None and email is None else None,
        whole,
    )


# --- starting, reviewing, releasing ---------------------------------------------------------


def start(request_id: int, actor: User) -> DataExport:
    """The office starts building a copy of the data for an access or portability request; the
    worker builds it once this commits."""
    from app.core.jobs import enqueue_after_commit

    req = db.session.get(PrivacyRequest, request_id, with_for_update=True)
    if req is None or not is_office(actor, req.organisation_id):
        raise ExportError("That request was not found.", 404)
    if req.kind not in EXPORT_KINDS:
        raise ExportError("Only a request for a copy of the data (access or portability) has an export.")
    if req.state is not RequestState.IN_PROGRESS:
        raise ExportError(
            "Check the requester's identity and put the request in progress before making the export."
        )
    if req.on_behalf_of == "child" and req.subject_pupil_id is None:
        raise ExportError(
            "This request is about a child, but no child's record is linked to it "
            "(or the record has been erased)."
        )
    if live_export(req.id) is not None:
        raise ExportError("This request already has an export being made or ready.")
    export = DataExport(request_id=req.id, state=ExportState.QUEUED, download_count=0)
    db.session.add(export)
    db.session.flush()
    log_event("export_started", actor, subject=f"export:{export.id}", organisation_id=req.organisation_id)
    enqueue_after_commit(BUILD_JOB, export.id, job_id=f"export-{export.id}")
    db.session.commit()
    return export


def live_export(request_id: int) -> DataExport | None:
    """The request's export that is being made, waits for review or can still be downloaded."""
    return db.session.scalar(
        sa.select(DataExport)
        .where(
            DataExport.request_id == request_id,
            DataExport.state.in_(LIVE),
            sa.or_(DataExport.expires_at.is_(None), DataExport.expires_at > utcnow()),
        )
        .order_by(DataExport.id.desc())
        .limit(1)
    )


# Why an item may be held back or blanked out, in the office's words (the exemption relied on).
EXEMPTIONS = {
    "other_person": "It is another person's information and they have not agreed to share it",
    "serious_harm": "Releasing it could cause serious harm to someone",
    "other": "Another exemption (noted in the request's notes)",
}
NAMES_REASON = "names another child of the class"
DECISIONS = {"keep": "kept as it is", "redact": "names blanked out", "remove": "left out"}


def release(
    export_id: int,
    actor: User,
    remove: Collection[str] = frozenset(),
    *,
    redact: Collection[str] = frozenset(),
    reasons: dict[str, str] | None = None,
) -> DataExport:
    """The office has looked at the copy and at every flagged item: ``remove`` names those to
    leave out and ``redact`` those whose other children's names are blanked out (ids from
    ``DataExport.flagged``), each with a reason from :data:`EXEMPTIONS`; the rest stay. Who
    reviewed and when is recorded on the export and in the request's audit trail. Without
    changes the export is released at once; with them the worker rebuilds it first."""
    from app.core.jobs import enqueue_after_commit

    export, req = _for_office(export_id, actor, lock=True)
    if export.state is not ExportState.REVIEW:
        raise ExportError("This copy is not waiting for review.")
    remove, redact, reasons = set(remove), set(redact), dict(reasons or {})
    items = {item["id"]: item for item in export.flagged or []}
    if (remove | redact) - set(items):
        raise ExportError("Choose only items listed for review.", 422)
    if remove & redact:
        raise ExportError("Choose for each item either to blank out the names or to leave it out.", 422)
    if any(NAMES_REASON not in items[i].get("reasons", []) for i in redact):
        raise ExportError(
            "Only names in a comment or note can be blanked out; leave a photo out instead.", 422
        )
    for item_id in remove | redact:
        if reasons.get(item_id) not in EXEMPTIONS:
            raise ExportError("Say why each item is left out or blanked out (the exemption).", 422)
    export.flagged = [
        {
            **item,
            "decision": "remove" if item["id"] in remove else "redact" if item["id"] in redact else "keep",
            "exemption": reasons.get(item["id"]) if item["id"] in remove | redact else None,
        }
        for item in export.flagged or []
    ]
    export.reviewed_by_id, export.reviewed_at = actor.id, utcnow()
    summary = review_summary(export.flagged)
    log_event(
        "export_reviewed",
        actor,
        subject=f"export:{export.id}",
        detail=summary,
        organisation_id=req.organisation_id,
    )
    req.events.append(
        RequestEvent(
            actor_id=actor.id,
            from_state=req.state.value,
            to_state=req.state.value,
            note=f"Copy of the data checked and released: {summary}.",
            at=export.reviewed_at,
        )
    )
    if remove or redact:
        export.state = ExportState.QUEUED
        enqueue_after_commit(BUILD_JOB, export.id, job_id=f"export-{export.id}-rebuild")
    else:
        _mark_ready(export, req)
    db.session.commit()
    return export


def review_summary(flagged: list[dict]) -> str:
    """The office's decisions in words: "2 items checked: 1 kept as it is, 1 left out"."""
    if not flagged:
        return "nothing in it shows another family"
    counts = {d: sum(1 for i in flagged if i.get("decision") == d) for d in DECISIONS}
    parts = [f"{n} {DECISIONS[d]}" for d, n in counts.items() if n]
    noun = "item" if len(flagged) == 1 else "items"
    return f"{len(flagged)} {noun} checked: " + ", ".join(parts)


def _mark_ready(export: DataExport, req: PrivacyRequest) -> None:
    from app.messaging.notify import notify

    export.state = ExportState.READY
    export.ready_at = utcnow()
    export.expires_at = export.ready_at + timedelta(days=KEEP_DAYS)
    if req.requester_id is not None:
        notify(
            "export_ready",
            event_key=f"export:{export.id}:ready",
            user_ids=[req.requester_id],
            organisation_id=req.organisation_id,
            context={
                "request_id": req.id,
                "export_id": export.id,
                "on_behalf_of": req.on_behalf_of,
                "kind": req.kind.value,
                # the day, written in the reader's language by the message (i18n.long_date)
                "expires_on": export.expires_at.isoformat(),
            },
        )


# --- building (the job's body) --------------------------------------------------------------


def build(export_id: int) -> ExportState | None:
    """Build the export's zip and store it encrypted. Idempotent: marks BUILDING first, and an
    export already built (REVIEW, READY) or expired is left alone."""
    from app.dataprotection.exports import zip as export_zip

    export = db.session.get(DataExport, export_id, with_for_update=True)
    if export is None:
        return None
    if export.state not in (ExportState.QUEUED, ExportState.BUILDING, ExportState.FAILED):
        db.session.rollback()
        return export.state
    export.state = ExportState.BUILDING
    earlier = {item["id"]: item for item in export.flagged or []}
    decisions = {key: item.get("decision") for key, item in earlier.items()}
    req = db.session.get_one(PrivacyRequest, export.request_id)
    subject = subject_for(req)
    db.session.commit()
    keys: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="hometime-export-") as tmp:
            path = os.path.join(tmp, "export.zip")
            result = export_zip.write(
                path,
                subject,
                request_id=req.id,
                removed={k for k, v in decisions.items() if v == "remove"},
                redacted={k for k, v in decisions.items() if v == "redact"},
                workdir=tmp,
            )
            keys = store(path, f"hometime-data-R{req.id}.zip")
        return _finish(export_id, keys, result.flagged, earlier)
    except BaseException:
        db.session.rollback()
        storage.discard(keys)
        db.session.execute(
            sa.update(DataExport)
            .where(DataExport.id == export_id, DataExport.state == ExportState.BUILDING)
            .values(state=ExportState.FAILED)
        )
        db.session.commit()
        raise


def _finish(export_id: int, keys: list[str], flagged: list[dict], earlier: dict) -> ExportState:
    export = db.session.get_one(DataExport, export_id, with_for_update=True, populate_existing=True)
    if export.state is not ExportState.BUILDING:  # built meanwhile by another run
        db.session.rollback()
        storage.discard(keys)
        return export.state
    old = export.file_key
    export.file_key = keys[-1]
    found = {item["id"] for item in flagged}
    export.flagged = [
        {
            **item,
            "decision": earlier.get(item["id"], {}).get("decision"),
            "exemption": earlier.get(item["id"], {}).get("exemption"),
        }
        for item in flagged
    ] + [item for key, item in earlier.items() if key not in found and item.get("decision")]
    # Nothing is released unseen: a first build always waits for the office's review; a rebuild
    # after the review is released unless it found something new to check.
    if export.reviewed_at is None or any(item["decision"] is None for item in export.flagged):
        export.state = ExportState.REVIEW
        export.expires_at = utcnow() + timedelta(days=KEEP_DAYS)
    else:
        _mark_ready(export, db.session.get_one(PrivacyRequest, export.request_id))
    state = export.state
    if old:
        org_id = db.session.scalar(
            sa.select(PrivacyRequest.organisation_id).where(PrivacyRequest.id == export.request_id)
        )
        storage.delete_after_commit(stored_keys(old), reason="export rebuilt", organisation_id=org_id)
    db.session.commit()
    return state


# --- handing out ------------------------------------------------------------------------------


def for_requester(export_id: int, user: User) -> DataExport:
    """The requester's own export, ready and not expired. Anyone else's: 404; expired: 410."""
    row = db.session.execute(
        sa.select(DataExport, PrivacyRequest)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .where(DataExport.id == export_id, PrivacyRequest.requester_id == user.id)
    ).first()
    if row is None:
        raise ExportError("That download was not found.", 404)
    export = row[0]
    if export.state is ExportState.EXPIRED or (
        export.expires_at is not None and export.expires_at <= utcnow()
    ):
        raise ExportError(
            "This download has expired: copies are kept for 7 days. Ask the school office for a new one.", 410
        )
    if export.state is not ExportState.READY or not export.file_key:
        raise ExportError("This copy of your data is not ready yet.", 404)
    return export


def _for_office(export_id: int, user: User, lock: bool = False):
    query = (
        sa.select(DataExport, PrivacyRequest)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .where(DataExport.id == export_id)
    )
    row = db.session.execute(query.with_for_update(of=DataExport) if lock else query).first()
    if row is None or not is_office(user, row[1].organisation_id):
        raise ExportError("That export was not found.", 404)
    return row[0], row[1]


def for_office(export_id: int, user: User) -> tuple[DataExport, PrivacyRequest]:
    """An export of a request of a school where ``user`` works in the office (else 404)."""
    return _for_office(export_id, user)


def stored_file(export: DataExport) -> str:
    """The key of the export's stored zip; ExportError (404) when it has none."""
    if not export.file_key:
        raise ExportError("This export has no file to download (not built yet, or expired).", 404)
    return export.file_key


def downloadable(export: DataExport) -> bool:
    """Has a stored file that has not expired."""
    return (
        bool(export.file_key)
        and export.state in (ExportState.REVIEW, ExportState.READY)
        and (export.expires_at is None or export.expires_at > utcnow())
    )


def record_download(export: DataExport, user: User, organisation_id: int, *, by_office: bool = False) -> None:
    """Log the download (who, which export); count it when the requester downloads it (the count
    tells the family how often *they* took a copy: the office's check is logged, not counted)."""
    if not by_office:
        db.session.execute(
            sa.update(DataExport)
            .where(DataExport.id == export.id)
            .values(download_count=DataExport.download_count + 1)
        )
    log_event(
        "export_downloaded",
        user,
        subject=f"export:{export.id}",
        detail="by the school office for review" if by_office else "by the requester",
        organisation_id=organisation_id,
    )
    db.session.commit()


def record_preview(export: DataExport, user: User, organisation_id: int) -> None:
    """Log that the office opened the copy to read it before release."""
    log_event(
        "export_previewed",
        user,
        subject=f"export:{export.id}",
        detail="read by the school office before release",
        organisation_id=organisation_id,
    )
    db.session.commit()
