"""Erasing part of a child's data, as the family asked (P23): only the photos, only the comments,
or only the ratings, leaving the child and the rest of their record in place.

:func:`preview_part` says what would go and what stays, :func:`erase_part` does it in one
transaction, deletes the files after the commit and tells the family in plain words (through the
request's completion message when done under a request). A photo or comment already shown in the
school's newsletter with permission stays only as an empty marker, never to be used again, as with
whole erasure (:mod:`app.dataprotection.rights.erasure`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.core import storage
from app.core.audit import log_event
from app.core.transactions import transaction
from app.dataprotection.common.ownership import condition, t
from app.dataprotection.exports import service as exports
from app.dataprotection.rights import erasure
from app.models import ContributionKind, Pupil, RequestState, User, utcnow

# What part of a child's data can be erased on its own, as the office and the family say it.
PARTS = {
    "photos": "Only the photos",
    "comments": "Only the comments",
    "ratings": "Only the ratings (how much the child enjoyed each activity)",
    "whole": "Everything: the child's whole record",
}
NOUNS = {"photos": ("photo", "photos"), "comments": ("comment", "comments"), "ratings": ("rating", "ratings")}
KIND = {"photos": ContributionKind.PHOTO, "comments": ContributionKind.COMMENT}


@dataclass(frozen=True)
class PartPreview:
    """What erasing one part would do: how many go, how many stay as a marker."""

    part: str
    removed: int
    markers: int
    copies: int  # copies of data made for the family that hold them, deleted too

    def words(self) -> str:
        """In plain words, for the office and for the family."""
        one, many = NOUNS[self.part]
        if not self.removed and not self.markers:
            return f"There were no {many} to delete."
        said = [f"{self.removed} {one if self.removed == 1 else many} deleted"] if self.removed else []
        if self.markers:
            said.append(
                f"{self.markers} {one if self.markers == 1 else many} already shown in the school's "
                "newsletter with your permission kept only as an empty marker, never to be used again"
            )
        if self.copies:
            said.append("copies of your data made earlier that held them deleted")
        text = "; ".join(said)
        return text[0].upper() + text[1:] + ". Everything else about the child stays as it was."


def _contributions(pupil: Pupil, part: str):
    c = t("contributions").c
    owned = condition("contributions", pupil_id=pupil.id)
    assert owned is not None  # a child's contributions are always theirs (OWNERSHIP)
    return sa.and_(owned, c.kind == KIND[part])


def preview_part(pupil: Pupil, part: str) -> PartPreview:
    """How many of the child's photos, comments or ratings would go (none changes yet)."""
    if part not in NOUNS:
        raise erasure.ErasureError("Choose what to erase.", 422)
    copies = db_count(t("data_exports"), erasure._exports(pupil))
    if part == "ratings":
        e = t("engagements").c
        n = db_count(t("engagements"), sa.and_(e.pupil_id == pupil.id, e.rating.is_not(None)))
        return PartPreview(part, n, 0, 0)
    c, cond = t("contributions").c, _contributions(pupil, part)
    published = db_count(
        t("contributions"), sa.and_(cond, c.published_at.is_not(None), c.author_id.is_not(None))
    )
    total = db_count(
        t("contributions"), sa.and_(cond, sa.or_(c.published_at.is_(None), c.author_id.is_not(None)))
    )
    return PartPreview(part, total - published, published, copies if total else 0)


def db_count(table, cond) -> int:
    from app.core.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(table).where(cond)) or 0


def erase_part(pupil: Pupil, actor: User, part: str, *, request_id: int | None = None) -> str:
    """Erase one part of a child's data in one transaction, then delete the files and tell the
    family what was done in plain words. Doing it twice changes nothing more."""
    from app.core.extensions import db

    pupil = db.session.get_one(Pupil, pupil.id, with_for_update=True, populate_existing=True)
    if pupil.erased_at is not None:
        db.session.rollback()
        return "Already erased: nothing left to do."
    files: list[str] = []
    with transaction():
        req = erasure.check(pupil, actor, request_id)
        told = erasure._audience(pupil)
        before = preview_part(pupil, part)
        if part == "ratings":
            e = t("engagements")
            db.session.execute(sa.update(e).where(e.c.pupil_id == pupil.id).values(rating=None))
        else:
            files = _erase_contributions(pupil, part, before)
            storage.delete_after_commit(
                (
                    k
                    for key in files
                    for k in (exports.stored_keys(key) if key.startswith("export/") else [key])
                ),
                reason="erasure",
                organisation_id=pupil.organisation_id,
            )
        words = before.words()
        log_event(
            "erased",
            actor,
            subject=f"pupil:{pupil.id}",
            detail=f"{part}: {words}",
            organisation_id=pupil.organisation_id,
        )
        outcome = f"{PARTS[part].replace('Only the', 'The')} of {pupil.first_name}: {words}"
        if req is None and told:
            from app.messaging.notify import notify

            notify(
                "erasure_completed",
                event_key=f"pupil:{pupil.id}:erased:{part}:{utcnow():%Y%m%d%H%M%S}",
                user_ids=told,
                organisation_id=pupil.organisation_id,
                context={
                    "about": "child",
                    "part": part,
                    # counts, put in words by the message in each carer's language
                    "removed": before.removed,
                    "markers": before.markers,
                    "copies": before.copies,
                },
            )
    if req is not None:
        from app.dataprotection.requests.workflow import RequestError, transition

        try:
            transition(req.id, RequestState.COMPLETED, actor=actor, note=outcome)
        except RequestError:
            pass  # erased all the same; the office completes the request by hand
    return outcome


def _erase_contributions(pupil: Pupil, part: str, before: PartPreview) -> list[str]:
    from app.core.extensions import db

    tbl, now = t("contributions"), utcnow()
    cond = _contributions(pupil, part)
    keys = db.session.execute(sa.select(tbl.c.photo_key, tbl.c.thumb_key).where(cond)).all()
    files = [k for pair in keys for k in pair if k and k != erasure.TOMBSTONE_KEY]
    erasure.erase_contributions(cond, now)
    if before.copies:
        e = t("data_exports")
        ids_keys = db.session.execute(sa.select(e.c.id, e.c.file_key).where(erasure._exports(pupil))).all()
        files += [key for _, key in ids_keys if key]
        db.session.execute(sa.delete(e).where(e.c.id.in_([i for i, _ in ids_keys])))
    return files
