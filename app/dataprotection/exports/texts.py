"""The words of an access export (P22, P31): what each kind of record is called and where it
came from, what the export leaves out and why, the statement about automated decisions, and the
HTML of each kind of record's section (its explanation and its rows)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext
from markupsafe import escape

from app.models.inventory import INVENTORY, RECIPIENTS, RETENTION

LONDON = ZoneInfo("Europe/London")

# Tables with a personal subject that are deliberately left out of the export, and why.
NOT_EXPORTED = {
    "login_tokens": "One-time sign-in links and codes: kept only as one-way hashes, for minutes "
    "or days, and they say nothing more than the sign-in history does.",
    "recovery_codes": "Staff two-step recovery codes: kept only as one-way hashes.",
    "user_sessions": "Which phones and computers are signed in: kept only as one-way hashes "
    "until signing out, and they say nothing more than the sign-in history does.",
    "outbox_messages": "Exists only in development and demonstration installations, never with "
    "real families' data.",
}


def N_(text: str) -> str:
    """Marks English words for the catalogs (``make translations``) and leaves them English: the
    files a computer reads (data.json, the CSV files) keep them so; the readable page translates
    them into the requester's language where it shows them (``gettext``)."""
    return text


# Per exported table: a title a parent understands, and where the records came from.
SECTIONS = {
    "users": (
        N_("Your account"),
        N_(
            "From the school's records (the name and contact details it "
            "gave us to invite you) and from you, when you joined or changed "
            "them."
        ),
    ),
    "staff_memberships": (N_("Your staff roles"), N_("From the school office.")),
    "class_teachers": (N_("Classes you teach"), N_("From the school office.")),
    "invitations": (N_("Invitations"), N_("Made by the school office to invite you.")),
    "pupils": (
        N_("The child's school record"),
        N_("Supplied by the school from its records, or given by your family: see the Source column."),
    ),
    "guardianships": (
        N_("Links between carers and children"),
        N_("Supplied by the school, or made by your family: see the Source column."),
    ),
    "engagements": (
        N_("Activities done at home"),
        N_("From your family, when an activity was marked as done."),
    ),
    "contributions": (N_("Comments and photos sent to the school"), N_("From your family.")),
    "awards": (N_("Awards"), N_("From the child's teachers.")),
    "usage_events": (N_("How Hometime was used"), N_("Recorded by Hometime when it was used.")),
    "consent_records": (
        N_("Consents given and withdrawn"),
        N_("From you (or the school office, when you told them)."),
    ),
    "privacy_requests": (
        N_("Data-protection requests"),
        N_("From you, or the school office when you asked by phone, letter or email."),
    ),
    "request_events": (N_("What happened to each request"), N_("Recorded by the school office.")),
    "data_exports": (N_("Copies of data made for you"), N_("Made by Hometime for your requests.")),
    "activity_log": (N_("Sign-ins and security log"), N_("Recorded by Hometime.")),
    "notification_deliveries": (
        N_("Messages sent to you"),
        N_("Recorded by Hometime when it sent (or held back) a message."),
    ),
}

NO_AUTOMATED_DECISIONS = N_(
    "Nothing about you or your child is decided by software alone. Hometime does not profile "
    "families and makes no automated decisions: teachers and the school office make every "
    "decision, and software only stores, sends and counts what people do."
)

CSS = """body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #bbb;padding:.25rem .4rem;
text-align:left;vertical-align:top}.table-wrap{overflow-x:auto}img{max-width:10rem;height:auto}
dt{font-weight:bold}section{margin-top:2rem;border-top:2px solid #246}"""


def html_value(table: str, column: str, value, thumb: tuple[str, int, int] | None = None) -> str:
    """One exported value as HTML: the photo shown (``thumb``: its thumbnail as a data: address,
    width and height, so the page shows it without any other file), yes/no, dates in UK time,
    text escaped."""
    if value is None:
        return ""
    if (table, column) == ("contributions", "photo_key"):
        if thumb is None:
            return f'<a href="{escape(value)}">Photo (in the download)</a>'
        src, width, height = thumb
        return (
            f'<a href="{escape(value)}"><img src="{src}" width="{width}" height="{height}" '
            'alt="A photo you sent (the full size is in the download)"></a>'
        )
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", value):
        moment = datetime.fromisoformat(value).astimezone(LONDON)
        return f"{moment.day} {moment:%b %Y, %H:%M}"
    if isinstance(value, (dict, list)):
        return escape(json.dumps(value))
    return str(escape(value))


# Columns the readable page leaves out: secrets and hashes (never shown, even as "set"), and the
# numbers and keys Hometime uses inside (still in the machine-readable files, as the law asks).
HIDDEN_IN_PAGE = {"id", "session_version", "thumb_key", "file_key", "provider_id", "event_key", "request_id"}
HIDDEN_ENDINGS = ("_hash", "_secret")
HIDDEN_PAIRS = {("activity_log", "subject"), ("notification_deliveries", "context")}

# Plain headings where the column's name is not a phrase a parent would use.
LABELS = {
    "kind": "Kind",
    "mobile": "Mobile number",
    "mfa_enabled_at": "Two-step sign-in turned on",
    "status": "Status",
    "last_login_at": "Last signed in",
    "last_active_at": "Last used Hometime",
    "deactivated_at": "Account closed",
    "deactivation_reason": "Why the account was closed",
    "closure_notice_sent_at": "Told the account would close",
    "details_checked_at": "Details last checked",
    "details_reminded_at": "Reminded to check details",
    "restricted_at": "Use limited (restricted) since",
    "objected_at": "Objected since",
    "email_notifications": "Emails about new topics",
    "sms_notifications": "Text messages",
    "weekly_digest": "Weekly summary email",
    "quiet_from": "No texts from",
    "quiet_until": "No texts until",
    "created_at": "Made on",
    "organisation_id": "School",
    "trust_id": "Trust",
    "class_id": "Class",
    "user_id": "Person",
    "pupil_id": "Child",
    "upn": "Unique pupil number (UPN)",
    "pupil_premium": "Pupil Premium",
    "removed_by_id": "Removed by",
    "removed_by_user_id": "Removed by",
    "erased_at": "Erased on",
    "no_contact": "Not to be contacted",
    "relationship_label": "Relationship",
    "topic_activity_id": "Activity",
    "done_by_id": "Done by",
    "done_at": "Done on",
    "author_id": "Sent by",
    "body": "Comment",
    "photo_key": "Photo",
    "promo_opt_in": "May be shown in the school's newsletter",
    "promo_withdrawn_at": "Permission to show withdrawn",
    "shows_other_children": "Shows other children",
    "hidden_at": "Hidden by the teacher on",
    "hidden_by_id": "Hidden by",
    "published_at": "Shown in the newsletter on",
    "never_use_again": "Never to be shown again",
    "given_by_id": "Given by",
    "activity_id": "Activity",
    "contribution_id": "Comment or photo",
    "granted": "Agreed",
    "notice_id": "Privacy notice",
    "recorded_by_id": "Recorded by",
    "requester_id": "Asked by",
    "subject_pupil_id": "About the child",
    "identity_checked_on": "Identity checked on",
    "paused_days": "Days paused",
    "extension_months": "Extended by (months)",
    "confirmed_at": "Confirmed on",
    "created_by_id": "Logged by",
    "actor_id": "By",
    "from_state": "From",
    "to_state": "To",
    "flagged": "Checked by the office",
    "ready_at": "Ready on",
    "expires_at": "Available until",
    "download_count": "Times downloaded",
    "reviewed_by_id": "Checked by",
    "reviewed_at": "Checked on",
    "at": "When",
    "ip": "Internet address",
    "template": "Message",
    "channel": "Sent by",
    "attempts": "Attempts",
    "not_before": "Not before",
    "sent_at": "Sent on",
}


def hidden(table: str, column: str) -> bool:
    """Whether the readable page leaves the column out (secrets, hashes, internal numbers)."""
    return column in HIDDEN_IN_PAGE or column.endswith(HIDDEN_ENDINGS) or (table, column) in HIDDEN_PAIRS


def heading(column: str) -> str:
    """A column as a plain heading: ``done_by_id`` → "Done by", ``mfa_enabled_at`` → "Two-step
    sign-in turned on"."""
    if column in LABELS:
        return LABELS[column]
    name = column[:-3] if column.endswith("_id") and column != "id" else column
    return name.replace("_", " ").capitalize().replace("Upn", "UPN")


def plain(text: str) -> str:
    """Text for a family: without the internal promise codes ("(P17)") staff use."""
    return re.sub(r"\s*\((?:P\d\d(?:, )?)+\)", "", text)


def how_many(n: int, one: str, many: str | None = None) -> str:
    """ "1 entry", "3 entries": counted in words, never "record(s)"."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def section_start(body, table: str, columns: list[str]) -> None:
    """Write the start of a kind of record's section: what it is, why, where from, how long,
    who receives it, what each personal item is for, and its table's headings."""
    entry = INVENTORY[table]
    title, source = SECTIONS[table]
    items = "".join(
        f"<li><strong>{escape(heading(c))}</strong> ({escape(col.category.value)}): "
        f"{escape(plain(col.purpose))}</li>"
        for c, col in entry.personal.items()
        if not hidden(table, c)
    )
    who = "".join(f"<li>{escape(RECIPIENTS[r])}</li>" for r in entry.recipients)
    # In the requester's language (the build runs inside i18n.in_language): the headings and
    # Hometime's own words; the inventory's explanations and the records stay English, marked so.
    title, en = gettext(title), ' lang="en-GB"'
    # Outside the f-strings below: pybabel (Python 3.11) does not look inside an f-string.
    came_from, kept, receives = (
        gettext("Where it came from"),
        gettext("How long it is kept"),
        gettext("Who receives it"),
    )
    each_item = gettext("What each personal item is for")
    body.write(
        f'<section id="{table}"><h2>{escape(title)}</h2><p{en}>{escape(plain(entry.purpose))}</p>'
        f"<dl><dt>{escape(came_from)}</dt><dd>{escape(gettext(source))}</dd>"
        f"<dt>{escape(kept)}</dt>"
        f"<dd{en}>{escape(plain(RETENTION[entry.retention]))}</dd>"
        f"<dt>{escape(receives)}</dt><dd><ul{en}>{who}</ul></dd></dl>"
        + (f"<details><summary>{escape(each_item)}</summary><ul{en}>{items}</ul></details>" if items else "")
        + f'<div class="table-wrap" tabindex="0" role="region" aria-label="{escape(title)}"{en}>'
        + "<table><thead><tr>"
        + "".join(f'<th scope="col">{escape(heading(c))}</th>' for c in columns)
        + "</tr></thead><tbody>\n"
    )


def explanations(tables: list[str]) -> dict:
    """What each kind of record is, why it is held, how long, where from, who receives it."""
    found = {}
    for table in tables:
        entry = INVENTORY[table]
        found[table] = {
            "title": SECTIONS[table][0],
            "why": plain(entry.purpose),
            "source": SECTIONS[table][1],
            "kept": plain(RETENTION[entry.retention]),
            "shared_with": [RECIPIENTS[r] for r in entry.recipients],
            "personal_fields": {
                c: {"category": col.category.value, "purpose": plain(col.purpose)}
                for c, col in entry.personal.items()
            },
        }
    return found
