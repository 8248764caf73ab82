"""Retention: one rule per promise, set-based and chunked, idempotent, safe to stop and rerun.

Each rule has a ``select`` of the ids it would act on as of a date (used for the preview, P21)
and an ``apply`` for one chunk of those ids (one transaction). Running a rule repeats
select-a-chunk → apply → commit until nothing is left, then records a RetentionRun with only the
rule, a count and the times. Nothing here is a Python loop over every row of a big table.
The rules about accounts (the yearly details check, P10, and closing unused accounts, P19) are
in ``retention_accounts``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from app.core import storage
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.dataprotection.retention import account_rules as accounts
from app.models import (
    ActivityLog,
    Contribution,
    DataExport,
    Engagement,
    ExportState,
    FileDeletion,
    Guardianship,
    Invitation,
    InvitationStatus,
    LoginToken,
    NotificationDelivery,
    Organisation,
    OutboxMessage,
    PrivacyRequest,
    Pupil,
    RetentionRun,
    User,
    UserKind,
    UserSession,
    UserStatus,
    bound_list,
    one_of,
    utcnow,
)

log = logging.getLogger(__name__)
CHUNK = 2000
DELIVERY_DAYS = 90
OUTBOX_DAYS = 30
INVITATION_KEEP_DAYS = 90
SIGN_IN_IDLE_DAYS = 90  # as long as a remember-me cookie lasts


@dataclass(frozen=True)
class Rule:
    name: str
    promise: str
    what: str  # what happens, for the preview
    select: Callable[[datetime], sa.Select]  # ids the rule acts on as of a time
    apply: Callable[[list[int], datetime], None]
    subject: str = "platform"  # what the ids are, to count one school's (see SCHOOL_IDS)


def as_of_datetime(day: date | datetime | None) -> datetime:
    """The end of the given day in UTC (a run 'as of 3 May' covers all of 3 May)."""
    if day is None:
        return utcnow()
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


# --- P17: closed accounts deleted after the school's period (90 days) -------------------------


def _select_delete_closed(as_of: datetime) -> sa.Select:
    return accounts.by_family_period(
        sa.select(User.id).where(User.kind == UserKind.PARENT, User.status == UserStatus.DEACTIVATED),
        Organisation.closed_account_days,
        90,
        lambda days: User.deactivated_at <= as_of - timedelta(days=days),
    )


def _apply_delete_closed(ids: list[int], as_of: datetime) -> None:
    # Links, consents, tokens, deliveries and usage go with the row (ON DELETE CASCADE); what
    # the parent sent about their child stays with the school, without the author (SET NULL).
    db.session.execute(sa.delete(User).where(User.id.in_(ids)))


# --- P20: a child removed by the school and by every parent: deleted after 90 days -----------


def _select_gone_children(as_of: datetime) -> sa.Select:
    """Children removed by their school and left by every parent, each school's period ago."""

    def gone(days: int):
        cutoff = as_of - timedelta(days=days)
        live_link = (
            sa.select(Guardianship.id)
            .join(User, User.id == Guardianship.parent_id)
            .where(
                Guardianship.pupil_id == Pupil.id,
                Guardianship.removed_at.is_(None),
                one_of(User.status, [UserStatus.ACTIVE, UserStatus.INVITED]),
            )
        )
        recent_unlink = sa.select(Guardianship.id).where(
            Guardianship.pupil_id == Pupil.id, Guardianship.removed_at > cutoff
        )
        recent_closure = (
            sa.select(Guardianship.id)
            .join(User, User.id == Guardianship.parent_id)
            .where(
                Guardianship.pupil_id == Pupil.id,
                Guardianship.removed_at.is_(None),
                User.deactivated_at > cutoff,
            )
        )
        return sa.and_(
            Organisation.removed_child_days == days,
            Pupil.removed_at <= cutoff,
            ~sa.exists(live_link),
            ~sa.exists(recent_unlink),
            ~sa.exists(recent_closure),
        )

    periods = accounts.periods_of(Organisation.removed_child_days, 90)
    return (
        sa.select(Pupil.id)
        .join(Organisation, Organisation.id == Pupil.organisation_id)
        .where(Pupil.removed_at.is_not(None), sa.or_(*(gone(d) for d in periods)))
    )


def _apply_gone_children(ids: list[int], as_of: datetime) -> None:
    rows = db.session.execute(
        sa.select(Pupil.organisation_id, Contribution.photo_key, Contribution.thumb_key)
        .join(Engagement, Engagement.id == Contribution.engagement_id)
        .join(Pupil, Pupil.id == Engagement.pupil_id)
        .where(Engagement.pupil_id.in_(ids), Contribution.photo_key.is_not(None))
    ).all()
    # Engagements, contributions, awards, links and usage go with the pupil (ON DELETE CASCADE).
    db.session.execute(sa.delete(Pupil).where(Pupil.id.in_(ids)))
    for org_id, photo, thumb in rows:
        storage.delete_after_commit([photo, thumb], reason="retention", organisation_id=org_id)


# --- P15 and housekeeping --------------------------------------------------------------------


def _select_activity_log(as_of: datetime) -> sa.Select:
    """Each school's rows after that school's period; rows of no school after the platform's."""
    from flask import current_app

    periods = db.session.execute(sa.select(Organisation.id, Organisation.activity_log_days)).all()
    default = current_app.config["ACTIVITY_LOG_DAYS"]
    conditions = [
        sa.and_(ActivityLog.organisation_id == org_id, ActivityLog.at < as_of - timedelta(days=days))
        for org_id, days in periods
    ]
    conditions.append(
        sa.and_(ActivityLog.organisation_id.is_(None), ActivityLog.at < as_of - timedelta(days=default))
    )
    return sa.select(ActivityLog.id).where(
        ActivityLog.at < as_of - timedelta(days=min([default, *(d for _, d in periods)])), sa.or_(*conditions)
    )


def _apply_delete(model):
    def apply(ids: list[int], as_of: datetime) -> None:
        db.session.execute(sa.delete(model).where(model.id.in_(ids)))

    return apply


def _select_tokens(as_of: datetime) -> sa.Select:
    return sa.select(LoginToken.id).where(
        sa.or_(LoginToken.expires_at < as_of, LoginToken.used_at.is_not(None))
    )


def _select_sign_ins(as_of: datetime) -> sa.Select:
    return sa.select(UserSession.id).where(
        sa.or_(
            UserSession.ended_at.is_not(None),
            UserSession.last_seen_at < as_of - timedelta(days=SIGN_IN_IDLE_DAYS),
        )
    )


def _select_expire_invitations(as_of: datetime) -> sa.Select:
    return sa.select(Invitation.id).where(
        one_of(Invitation.status, [InvitationStatus.PENDING, InvitationStatus.SENT, InvitationStatus.FAILED]),
        Invitation.expires_at < as_of,
    )


def _apply_expire_invitations(ids: list[int], as_of: datetime) -> None:
    db.session.execute(
        sa.update(Invitation).where(Invitation.id.in_(ids)).values(status=InvitationStatus.EXPIRED)
    )


def _select_old_invitations(as_of: datetime) -> sa.Select:
    return sa.select(Invitation.id).where(
        one_of(
            Invitation.status, [InvitationStatus.EXPIRED, InvitationStatus.REVOKED, InvitationStatus.ACCEPTED]
        ),
        Invitation.expires_at < as_of - timedelta(days=INVITATION_KEEP_DAYS),
    )


def _select_exports(as_of: datetime) -> sa.Select:
    return sa.select(DataExport.id).where(
        DataExport.expires_at < as_of, DataExport.state != ExportState.EXPIRED
    )


def _apply_exports(ids: list[int], as_of: datetime) -> None:
    keys = db.session.execute(
        sa.select(PrivacyRequest.organisation_id, DataExport.file_key)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .where(DataExport.id.in_(ids), DataExport.file_key.is_not(None))
    ).all()
    db.session.execute(
        sa.update(DataExport).where(DataExport.id.in_(ids)).values(state=ExportState.EXPIRED, file_key=None)
    )
    from app.dataprotection.exports.files import stored_keys

    for org_id, key in keys:
        if key is None:
            continue
        storage.delete_after_commit(stored_keys(key), reason="export expired", organisation_id=org_id)


def _select_deliveries(as_of: datetime) -> sa.Select:
    return sa.select(NotificationDelivery.id).where(
        NotificationDelivery.created_at < as_of - timedelta(days=DELIVERY_DAYS)
    )


def _select_outbox(as_of: datetime) -> sa.Select:
    return sa.select(OutboxMessage.id).where(OutboxMessage.created_at < as_of - timedelta(days=OUTBOX_DAYS))


RULES: list[Rule] = [
    Rule(
        "reset_closure_notice",
        "P19",
        "closure notice withdrawn: the parent came back",
        accounts.select_reset_notice,
        accounts.apply_reset_notice,
        "parent",
    ),
    Rule(
        "closure_notice",
        "P19",
        "told their account closes in 30 days (inactive)",
        accounts.select_notice,
        accounts.apply_notice,
        "parent",
    ),
    Rule(
        "close_inactive",
        "P19",
        "account closed after 12 months without use",
        accounts.select_close,
        accounts.apply_close,
        "parent",
    ),
    Rule(
        "details_reminder",
        "P10",
        "asked to check their details (once a year)",
        accounts.select_details_reminder,
        accounts.apply_details_reminder,
        "parent",
    ),
    Rule(
        "delete_closed_accounts",
        "P17",
        "closed account deleted 90 days after closure",
        _select_delete_closed,
        _apply_delete_closed,
        "parent",
    ),
    Rule(
        "delete_removed_children",
        "P20",
        "child's data deleted 90 days after the school and every parent removed them",
        _select_gone_children,
        _apply_gone_children,
        "pupil",
    ),
    Rule(
        "purge_activity_log",
        "P15",
        "activity-log entry deleted after the school's period",
        _select_activity_log,
        _apply_delete(ActivityLog),
        "activity_log",
    ),
    Rule(
        "purge_sign_in_tokens",
        "P21",
        "used or expired sign-in link or code deleted",
        _select_tokens,
        _apply_delete(LoginToken),
    ),
    Rule(
        "purge_sign_ins",
        "P21",
        "ended sign-in, or one unused for 90 days, deleted",
        _select_sign_ins,
        _apply_delete(UserSession),
    ),
    Rule(
        "expire_invitations",
        "P21",
        "invitation marked expired after 30 days",
        _select_expire_invitations,
        _apply_expire_invitations,
        "invitation",
    ),
    Rule(
        "purge_invitations",
        "P21",
        "old invitation deleted 90 days after it ended",
        _select_old_invitations,
        _apply_delete(Invitation),
        "invitation",
    ),
    Rule(
        "expire_exports",
        "P22",
        "data export file deleted 7 days after it was ready",
        _select_exports,
        _apply_exports,
        "export",
    ),
    Rule(
        "purge_deliveries",
        "P21",
        "delivery record deleted 90 days after sending",
        _select_deliveries,
        _apply_delete(NotificationDelivery),
        "delivery",
    ),
    Rule(
        "purge_outbox",
        "P21",
        "development outbox message deleted after 30 days",
        _select_outbox,
        _apply_delete(OutboxMessage),
    ),
]

# The ids of each kind of record that belong to some schools (platform records belong to none):
# the schools bound as one array, "schools" (the statement's text the same for any schools).
_SCHOOLS = bound_list("schools", sa.Integer)
SCHOOL_IDS: dict[str, sa.Select] = {
    "parent": (
        sa.select(Guardianship.parent_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.organisation_id == sa.any_(_SCHOOLS))
    ),
    "pupil": sa.select(Pupil.id).where(Pupil.organisation_id == sa.any_(_SCHOOLS)),
    "activity_log": sa.select(ActivityLog.id).where(ActivityLog.organisation_id == sa.any_(_SCHOOLS)),
    "invitation": sa.select(Invitation.id).where(Invitation.organisation_id == sa.any_(_SCHOOLS)),
    "export": (
        sa.select(DataExport.id)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .where(PrivacyRequest.organisation_id == sa.any_(_SCHOOLS))
    ),
    "delivery": sa.select(NotificationDelivery.id).where(
        NotificationDelivery.organisation_id == sa.any_(_SCHOOLS)
    ),
}


def run_rule(rule: Rule, as_of: datetime) -> int:
    """Apply one rule in chunks (each its own transaction) and record a summary."""
    run = RetentionRun(rule=rule.name, as_of=as_of, started_at=utcnow())
    done = 0
    while True:
        ids = list(db.session.scalars(rule.select(as_of).limit(CHUNK)))
        if not ids:
            break
        rule.apply(ids, as_of)
        db.session.commit()  # and the files of the chunk go (storage.delete_after_commit)
        done += len(ids)
        if len(ids) < CHUNK:
            break
    run.affected, run.finished_at = done, utcnow()
    db.session.add(run)
    db.session.commit()
    if done:
        log.info("retention %s: %s as of %s", rule.name, done, as_of.date())
    return done


class RetentionFailed(Exception):
    """Some rules failed (each rolled back to its last whole chunk); the others ran."""

    def __init__(self, failed: dict[str, str], done: dict[str, int]):
        super().__init__(
            "retention rules failed: " + ", ".join(f"{name} ({error})" for name, error in failed.items())
        )
        self.failed, self.done = failed, done


def run_all(as_of: date | datetime | None = None) -> dict[str, int]:
    """Every rule, in order, as of a day (default: now). A rule that fails (a database error
    half-way) keeps its whole chunks done and does not stop the rules after it; the run then
    raises :class:`RetentionFailed`, so the job lands in the failed registry the office sees,
    and the next run picks up where it stopped."""
    moment = as_of_datetime(as_of)
    done, failed = {}, {}
    for rule in RULES:
        try:
            done[rule.name] = run_rule(rule, moment)
        except Exception as exc:  # noqa: BLE001 - the other promises must still be kept tonight
            db.session.rollback()
            log.exception("retention rule %s failed as of %s", rule.name, moment.date())
            failed[rule.name] = type(exc).__name__
    if failed:
        raise RetentionFailed(failed, done)
    return done


def record_kind(rule: Rule) -> str:
    """What the rule's ids are ids of: the table they come from (``users``, ``pupils``, ...)."""
    return rule.select(utcnow()).selected_columns[0].table.name


def preview(as_of: date | datetime | None = None, limit: int = 200) -> list[dict]:
    """What each rule would do by that day, and why: counts, the kind of record and the first
    ``limit`` ids (lowest first), nothing changed. Rules that depend on earlier ones (closure
    after notice) show what is due now."""
    moment = as_of_datetime(as_of)
    result = []
    for rule in RULES:
        query = rule.select(moment)
        count = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        first = query.selected_columns[0]
        ids = list(db.session.scalars(query.order_by(None).order_by(first).limit(limit))) if count else []
        result.append(
            {
                "rule": rule.name,
                "promise": rule.promise,
                "what": rule.what,
                "count": count,
                "kind": record_kind(rule),
                "ids": ids,
            }
        )
    return result


# The preview's statement, kept per process: building it (14 rules, a few hundred SQL
# expressions) cost more than running it, and it is run as a direct read (8 KB of SQL that psycopg
# would otherwise parse again on every run). Only the statement is kept, never a count, and it is
# keyed by everything it is built from: the day, whether it counts some schools' records only
# (the schools themselves are a bound array), and every school's periods (which the rules turn
# into branches); a period changed anywhere gives a new key on the next page.
_COUNTS: dict[tuple, DirectRead] = {}


@functools.cache
def _periods_read() -> DirectRead:
    o = Organisation
    return DirectRead(
        sa.select(
            o.id, o.activity_log_days, o.closed_account_days, o.inactive_months, o.removed_child_days
        ).order_by(o.id)
    )


def _periods() -> tuple:
    """Every setting the rules' statements are built from besides the day (one query)."""
    from flask import current_app

    return tuple(_periods_read().run({})), current_app.config["ACTIVITY_LOG_DAYS"]


def counts(as_of: date | datetime | None = None, organisation_ids: list[int] | None = None) -> list[dict]:
    """How many records each rule would act on by that day, in one query: every school's, or
    only the records of the schools in ``organisation_ids`` (``school`` False: a platform rule,
    counted for all schools, e.g. sign-in tokens). Nothing is changed."""
    moment = as_of_datetime(as_of)
    some = organisation_ids is not None
    key = (moment, some, _periods())
    read = _COUNTS.get(key)
    if read is None:
        columns = []
        for rule in RULES:
            ids = rule.select(moment).subquery()
            count = sa.select(sa.func.count()).select_from(ids)
            if some and rule.subject in SCHOOL_IDS:
                count = count.where(list(ids.c)[0].in_(SCHOOL_IDS[rule.subject]))
            columns.append(count.scalar_subquery())
        read = DirectRead(sa.select(*columns))
        if len(_COUNTS) >= 32:
            _COUNTS.clear()
        _COUNTS[key] = read
    (found,) = read.run({"schools": list(organisation_ids or ())})
    return [
        {
            "rule": rule.name,
            "promise": rule.promise,
            "what": rule.what,
            "count": n,
            "school": some and rule.subject in SCHOOL_IDS,
        }
        for rule, n in zip(RULES, found, strict=True)  # one count per rule
    ]


@functools.cache
def _deleted_files_read() -> DirectRead:
    done = FileDeletion.deleted_at.is_not(None)
    return DirectRead(
        sa.select(
            FileDeletion.reason,
            sa.func.count().filter(done),
            sa.func.count().filter(sa.not_(done)),
            sa.func.max(FileDeletion.deleted_at),
        )
        .where(FileDeletion.organisation_id == sa.any_(_SCHOOLS))
        .group_by(FileDeletion.reason)
        .order_by(FileDeletion.reason)
    )


def deleted_files(organisation_ids: list[int]) -> list[dict]:
    """Stored files deleted for these schools, by reason, in one query: how many the store has
    confirmed and how many are waiting for it (retried every night)."""
    rows = _deleted_files_read().run({"schools": list(organisation_ids)})
    return [{"reason": r, "confirmed": c, "waiting": w, "last": last} for r, c, w, last in rows]


class RunDone(NamedTuple):
    """What a retention run did, as the office's page lists it."""

    started_at: datetime
    rule: str
    affected: int


@functools.cache
def _recent_runs_read() -> DirectRead:
    return DirectRead(
        sa.select(RetentionRun.started_at, RetentionRun.rule, RetentionRun.affected)
        .where(RetentionRun.affected > 0)
        .order_by(RetentionRun.started_at.desc())
        .limit(30)
    )


def recent_runs() -> list[RunDone]:
    """The last 30 runs of a rule that changed something, newest first (counts only)."""
    return [RunDone(*row) for row in _recent_runs_read().run({})]
