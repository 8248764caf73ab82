"""The data inventory: every column of every table, declared once (GUIDE.md).

Each table names whose data it holds, why, how long it is kept and who receives it; each column
that can hold personal data names its category, purpose and what erasure does to it.  Columns that
hold nothing personal (keys, flags, timestamps of records) are listed as ``plain``.  The access
export, erasure, retention and the register of processing (P30) are driven from here, and
``tests/dataprotection/test_inventory.py`` fails when a model gains a column that is not declared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Category(enum.Enum):
    CONTACT = "contact details"
    PUPIL_RECORD = "pupil record"
    SENSITIVE = "sensitive (Pupil Premium)"
    CONTENT = "content families send"
    USAGE = "usage and activity"
    SECURITY = "security and sign-in"
    ADMIN = "records of our duties"


class Erasure(enum.Enum):
    DELETE = "the record is deleted"
    NULL = "the value is removed"
    PLACEHOLDER = "replaced with a placeholder"
    KEEP = "kept without identity"


@dataclass(frozen=True)
class Col:
    category: Category
    purpose: str
    erasure: Erasure = Erasure.NULL


@dataclass(frozen=True)
class Table:
    subject: str  # whose data: parent, staff, pupil, requester, nobody
    purpose: str
    retention: str  # a key of RETENTION
    recipients: tuple[str, ...] = ("hosting",)
    personal: dict[str, Col] = field(default_factory=dict)
    plain: tuple[str, ...] = ()
    erasure: Erasure = Erasure.KEEP  # what happens to the row itself


RETENTION = {
    "account": "While the account is open; deleted 90 days after it is closed by the parent (P17) "
    "or after 12 months without use, with a notice 30 days before (P19).",
    "staff": "While the person works at the school; removed by the school office when they leave.",
    "pupil": "While the child is at the school or linked to a parent; deleted within 90 days once "
    "the school and every parent have removed the child (P20).",
    "content": "Kept with the child's record, and deleted with it.",
    "usage": "Kept with the account, deleted when it is deleted.",
    "activity_log": "Kept for the school's configured period (365 days unless changed), then deleted (P15).",
    "tokens": "Until used or expired, then deleted by the nightly clean-up.",
    "sessions": "While signed in on that phone or computer; deleted by the nightly clean-up once "
    "signed out, or after 90 days without use.",
    "consent": "For as long as the account exists, as evidence of what was agreed (P08).",
    "requests": "Six years after the request is closed, as evidence of how it was handled.",
    "exports": "Seven days after the export is ready, then deleted.",
    "breaches": "Six years after the breach, as the regulator expects.",
    "deliveries": "90 days after sending, then deleted.",
    "outbox": "Development and demo only: 30 days.",
    "school": "While the school uses Hometime.",
    "none": "Holds no personal data.",
}

RECIPIENTS = {
    "hosting": "Our hosting provider (servers and database in the UK): stores all data.",
    "sendgrid": "Twilio SendGrid (email delivery): receives names and email addresses of people "
    "we email, and the message.",
    "twilio": "Twilio (text messages): receives mobile numbers of people we text, and the message.",
}

C, P, S, T, U, X, A = (
    Category.CONTACT,
    Category.PUPIL_RECORD,
    Category.SENSITIVE,
    Category.CONTENT,
    Category.USAGE,
    Category.SECURITY,
    Category.ADMIN,
)
D, N, H, K = Erasure.DELETE, Erasure.NULL, Erasure.PLACEHOLDER, Erasure.KEEP
TS = ("created_at",)

INVENTORY: dict[str, Table] = {
    "users": Table(
        "parent or staff",
        "Accounts: signing in, and contacting people about the service.",
        "account",
        ("hosting", "sendgrid", "twilio"),
        personal={
            "name": Col(C, "Greeting people and showing staff who is who.", H),
            "email": Col(C, "Invitations, sign-in links, topic notifications, reminders, awards."),
            "mobile": Col(C, "Sign-in codes and text reminders, when chosen."),
            "password_hash": Col(X, "Signing in with a password (only a one-way hash)."),
            "totp_secret": Col(X, "Two-step sign-in for staff (encrypted)."),
            "last_login_at": Col(U, "Security, and closing unused accounts (P19)."),
            "last_active_at": Col(U, "Closing accounts unused for 12 months (P19)."),
            "quiet_from": Col(U, "Not texting during the person's quiet hours."),
            "quiet_until": Col(U, "Not texting during the person's quiet hours."),
            "language": Col(C, "Showing pages and sending messages in the person's own language.", N),
        },
        plain=(
            "id",
            "kind",
            "mfa_enabled_at",
            "status",
            "session_version",
            "deactivated_at",
            "deactivation_reason",
            "closure_notice_sent_at",
            "details_checked_at",
            "details_reminded_at",
            "restricted_at",
            "objected_at",
            "email_notifications",
            "sms_notifications",
            "weekly_digest",
            *TS,
        ),
    ),
    "staff_memberships": Table(
        "staff",
        "Which school and role each member of staff has.",
        "staff",
        plain=("id", "user_id", "organisation_id", "trust_id", "role", *TS),
        erasure=D,
    ),
    "recovery_codes": Table(
        "staff",
        "Recovering two-step sign-in.",
        "account",
        personal={"code_hash": Col(X, "Recovery (one-way hash only).", D)},
        plain=("id", "user_id", "used_at"),
        erasure=D,
    ),
    "login_tokens": Table(
        "parent or staff",
        "One-time sign-in links and codes.",
        "tokens",
        personal={
            "token_hash": Col(X, "One-time sign-in (hash only).", D),
            "payload": Col(X, "What the link is for.", D),
        },
        plain=("id", "user_id", "purpose", "expires_at", "used_at", "attempts", *TS),
        erasure=D,
    ),
    "user_sessions": Table(
        "parent or staff",
        "Keeping a person signed in on each phone or computer, and ending that when they sign out there.",
        "sessions",
        personal={
            "secret_hash": Col(X, "Recognising this sign-in (hash only).", D),
            "last_seen_at": Col(U, "Ending sign-ins unused for long.", D),
        },
        plain=("id", "user_id", "ended_at", *TS),
        erasure=D,
    ),
    "trusts": Table(
        "nobody",
        "Groups of schools.",
        "school",
        personal={"dpo_email": Col(C, "The trust's data protection contact (a role address).", K)},
        plain=("id", "name"),
    ),
    "organisations": Table(
        "nobody",
        "Schools and partners, their privacy contact and settings.",
        "school",
        personal={
            "dpo_name": Col(C, "Shown on every page as the privacy contact (P11).", K),
            "dpo_email": Col(C, "Shown on every page as the privacy contact (P11).", K),
        },
        plain=(
            "id",
            "trust_id",
            "kind",
            "name",
            "timezone",
            "privacy_notice_url",
            "reminder_weekday",
            "activity_log_days",
            "closed_account_days",
            "inactive_months",
            "removed_child_days",
            *TS,
        ),
    ),
    "classes": Table(
        "nobody",
        "Classes and who teaches them.",
        "school",
        plain=("id", "organisation_id", "name", "year_group", "academic_year"),
    ),
    "class_teachers": Table(
        "staff", "Which classes a teacher teaches (P12).", "staff", plain=("class_id", "user_id"), erasure=D
    ),
    "pupils": Table(
        "pupil",
        "The child's school record, so the school can set and see home learning.",
        "pupil",
        personal={
            "first_name": Col(P, "Showing the child's name to their parents and teachers.", H),
            "last_name": Col(P, "Showing the child's name to their parents and teachers.", H),
            "year_group": Col(P, "Choosing suitable activities.", K),
            "upn": Col(P, "Matching the school's records when the roster is updated.", N),
            "pupil_premium": Col(S, "Only aggregate engagement comparison by the school (P04).", N),
            "class_id": Col(P, "Which class's topics the child sees.", K),
            "organisation_id": Col(P, "Which school the child attends.", K),
        },
        plain=("id", "source", "removed_at", "removed_by_id", "restricted_at", "erased_at", *TS),
    ),
    "guardianships": Table(
        "parent and pupil",
        "Which parents and carers are linked to which child.",
        "pupil",
        personal={
            "relationship_label": Col(P, "Showing staff who the carer is.", D),
            "no_contact": Col(P, "Never contacting a carer the school says not to.", D),
        },
        plain=(
            "id",
            "parent_id",
            "pupil_id",
            "source",
            "removed_at",
            "removed_by",
            "removed_by_user_id",
            *TS,
        ),
        erasure=D,
    ),
    "invitations": Table(
        "parent or staff",
        "Inviting families and staff to join.",
        "tokens",
        ("hosting", "sendgrid", "twilio"),
        personal={
            "token_hash": Col(X, "The invitation link (hash only).", D),
            "code_hash": Col(X, "The printed letter code (hash only).", D),
            "failure": Col(A, "Why a message could not be delivered.", D),
        },
        plain=(
            "id",
            "organisation_id",
            "user_id",
            "role",
            "channels",
            "status",
            "expires_at",
            "created_by_id",
            "sent_at",
            "accepted_at",
            "revoked_at",
            *TS,
        ),
        erasure=D,
    ),
    "activities": Table(
        "nobody",
        "The school's library of activities.",
        "school",
        plain=(
            "id",
            "organisation_id",
            "kind",
            "title",
            "instructions",
            "subject",
            "year_groups",
            "minutes",
            "url",
            "video_provider",
            "video_id",
            "file_key",
            "created_by_id",
            "archived_at",
            *TS,
        ),
    ),
    "topics": Table(
        "nobody",
        "Weekly topics set by teachers.",
        "school",
        plain=(
            "id",
            "organisation_id",
            "week_start",
            "title",
            "note",
            "status",
            "publish_at",
            "published_at",
            "announced_at",
            "version",
            "copied_from_id",
            "created_by_id",
            *TS,
        ),
    ),
    "topic_classes": Table(
        "nobody", "Which classes a topic is for.", "school", plain=("topic_id", "class_id")
    ),
    "topic_activities": Table(
        "nobody",
        "The activities of a topic, in order.",
        "school",
        plain=("id", "topic_id", "activity_id", "position"),
    ),
    "engagements": Table(
        "pupil",
        "Which activities a child did, so teachers see who took part.",
        "content",
        personal={
            "rating": Col(T, "How much the child enjoyed it; kept as an anonymous figure on erasure.", K),
            "done_at": Col(U, "When it was done.", K),
            "done_by_id": Col(U, "Which carer marked it done.", N),
        },
        plain=("id", "pupil_id", "topic_activity_id"),
    ),
    "contributions": Table(
        "pupil and parent",
        "Comments and photos shared with the child's school staff (P04).",
        "content",
        personal={
            "body": Col(T, "A comment for the child's teacher.", D),
            "photo_key": Col(T, "A photo for the child's teacher (encrypted).", D),
            "thumb_key": Col(T, "A small copy of the photo (encrypted).", D),
            "promo_opt_in": Col(T, "Separate permission to use it to promote the school.", D),
            "author_id": Col(U, "Which carer sent it.", D),
        },
        plain=(
            "id",
            "engagement_id",
            "kind",
            "promo_withdrawn_at",
            "shows_other_children",
            "hidden_at",
            "hidden_by_id",
            "published_at",
            "never_use_again",
            *TS,
        ),
        erasure=D,
    ),
    "awards": Table(
        "pupil",
        "Awards teachers give, and tell parents about (P04).",
        "content",
        personal={"note": Col(T, "The teacher's words to the family.", N)},
        plain=("id", "pupil_id", "given_by_id", "kind", *TS),
    ),
    "usage_events": Table(
        "parent and pupil",
        "First-party usage: what was opened, played, done (P05).",
        "usage",
        personal={"kind": Col(U, "What happened.", K), "at": Col(U, "When.", K)},
        plain=("id", "user_id", "pupil_id", "activity_id"),
        erasure=D,
    ),
    "privacy_notices": Table(
        "nobody",
        "Versions of the privacy notice (P07).",
        "school",
        plain=(
            "id",
            "organisation_id",
            "version",
            "summary",
            "body",
            "major",
            "published_at",
            "created_by_id",
            *TS,
        ),
    ),
    "consent_records": Table(
        "parent",
        "Evidence of each consent given or withdrawn (P01, P08).",
        "consent",
        personal={
            "purpose": Col(A, "What was agreed or withdrawn.", K),
            "granted": Col(A, "Agreed or withdrawn.", K),
            "on_behalf_of": Col(A, "On whose behalf it was given.", N),
            "method": Col(A, "How it was given.", K),
        },
        plain=(
            "id",
            "user_id",
            "organisation_id",
            "pupil_id",
            "contribution_id",
            "notice_id",
            "recorded_by_id",
            *TS,
        ),
        erasure=D,
    ),
    "privacy_requests": Table(
        "requester",
        "Handling data-protection requests on time (P22–P28).",
        "requests",
        ("hosting", "sendgrid"),
        personal={
            "requester_name": Col(C, "Knowing who asked.", K),
            "requester_email": Col(C, "Replying to the person who asked.", K),
            "details": Col(A, "What was asked.", K),
            "outcome": Col(A, "What was done.", K),
            "language": Col(C, "Answering in the language the requester wrote in.", K),
        },
        plain=(
            "id",
            "organisation_id",
            "kind",
            "state",
            "channel",
            "requester_id",
            "subject_pupil_id",
            "on_behalf_of",
            "received_on",
            "identity_checked_on",
            "paused_days",
            "paused_since",
            "due_on",
            "extension_months",
            "extension_reason",
            "closed_at",
            "confirmed_at",
            "created_by_id",
            *TS,
        ),
    ),
    "request_events": Table(
        "requester",
        "The audit trail of each request.",
        "requests",
        personal={"note": Col(A, "What the office recorded.", K)},
        plain=("id", "request_id", "actor_id", "from_state", "to_state", "at"),
    ),
    "data_exports": Table(
        "requester",
        "Copies of data made for access requests (P22).",
        "exports",
        personal={
            "file_key": Col(T, "The encrypted export file.", D),
            "flagged": Col(A, "Other families' data held back for review.", D),
        },
        plain=(
            "id",
            "request_id",
            "state",
            "ready_at",
            "expires_at",
            "download_count",
            "reviewed_by_id",
            "reviewed_at",
            *TS,
        ),
        erasure=D,
    ),
    "breaches": Table(
        "nobody",
        "The breach log (P29): no names, only numbers and categories.",
        "breaches",
        plain=(
            "id",
            "organisation_id",
            "title",
            "aware_at",
            "what_happened",
            "data_categories",
            "people_affected",
            "records_affected",
            "consequences",
            "measures",
            "decision",
            "decision_reason",
            "reported_at",
            "late_reason",
            "families_told_at",
            "reminders_sent",
            "created_by_id",
            *TS,
        ),
    ),
    "activity_log": Table(
        "parent or staff",
        "Security: sign-ins and access to children's data (P15).",
        "activity_log",
        personal={
            "ip": Col(X, "Spotting misuse of an account.", D),
            "event": Col(X, "What happened.", D),
            "subject": Col(X, "Which record was seen.", D),
            "detail": Col(X, "More about what happened.", D),
        },
        plain=("id", "at", "user_id", "organisation_id"),
        erasure=D,
    ),
    "retention_runs": Table(
        "nobody",
        "What each retention rule did (P21).",
        "none",
        plain=("id", "rule", "as_of", "started_at", "finished_at", "affected"),
    ),
    "file_deletions": Table(
        "nobody",
        "Which stored files were deleted, why and when the store confirmed it (random keys only).",
        "none",
        plain=("id", "key", "reason", "organisation_id", "requested_at", "deleted_at", "attempts"),
    ),
    "notification_deliveries": Table(
        "parent or staff",
        "Sending each message exactly once, and showing failures.",
        "deliveries",
        ("hosting", "sendgrid", "twilio"),
        personal={"reason": Col(A, "Why a message was not sent.", D)},
        plain=(
            "id",
            "event_key",
            "template",
            "user_id",
            "organisation_id",
            "channel",
            "status",
            "provider_id",
            "attempts",
            "context",
            "not_before",
            "sent_at",
            "segments",
            *TS,
        ),
        erasure=D,
    ),
    "outbox_messages": Table(
        "parent or staff",
        "Development only: messages instead of sending.",
        "outbox",
        personal={
            "to": Col(C, "The address.", D),
            "subject": Col(T, "The message.", D),
            "text": Col(T, "The message.", D),
            "html": Col(T, "The message.", D),
            "headers": Col(T, "The message.", D),
        },
        plain=("id", "channel", "organisation_id", *TS),
        erasure=D,
    ),
}


def declared_columns(table: str) -> set[str]:
    entry = INVENTORY[table]
    return set(entry.personal) | set(entry.plain)


def personal_columns(category: Category | None = None) -> list[tuple[str, str, Col]]:
    """Every personal column as (table, column, declaration), optionally of one category."""
    return [
        (t, c, col)
        for t, entry in INVENTORY.items()
        for c, col in entry.personal.items()
        if category is None or col.category is category
    ]
