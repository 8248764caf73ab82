"""Writing the zip of an access export (P22, P26, P31), driven by the data inventory.

For every table of :data:`app.models.inventory.INVENTORY` that :mod:`app.dataprotection.common.ownership` can walk
(and that :data:`NOT_EXPORTED` does not explain away), the subject's rows are streamed, a
batch at a time, into ``<table>.csv``, ``data.json`` and ``index.html`` at once, every declared
column included. Photos are decrypted one by one into ``photos/``. ``index.html`` says, per kind
of record, what it is, why it is held, how long it is kept, where it came from, who receives it,
and that no decision is made by software alone.

Rows that show something of another family (a comment or award note naming another child of the
class, a photo flagged as showing other children) are listed in ``flagged`` for the office; rows
the office chose to remove are left out and counted as held back.
"""

from __future__ import annotations

import base64
import enum
import io
import json
import shutil
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import gettext, ngettext
from markupsafe import Markup

from app.core import csv_safe, i18n, storage
from app.core.extensions import db
from app.dataprotection.common.ownership import (
    OWNERSHIP,
    REQUESTER_ONLY,
    SHARED_COLUMNS,
    condition,
    school_rows,
    t,
)
from app.dataprotection.exports.labels import Labels
from app.dataprotection.exports.texts import (
    CSS,
    NO_AUTOMATED_DECISIONS,
    NOT_EXPORTED,
    SECTIONS,
    explanations,
    hidden,
    how_many,
    html_value,
    section_start,
)
from app.models import Organisation, PrivacyRequest, utcnow
from app.models.inventory import INVENTORY, RECIPIENTS, Category

BATCH = 500
LONDON = ZoneInfo("Europe/London")
MARKER = "<!--DATA-->"


def exported_tables() -> list[str]:
    """The inventory's tables that go into an export, in the inventory's order."""
    return [name for name in INVENTORY if name in OWNERSHIP and name not in NOT_EXPORTED]


def _requests_by_email(subject):
    """The requests of a requester without an account: by their address, or (no address
    either) the request being answered."""
    pr = t("privacy_requests")
    same = (
        sa.func.lower(pr.c.requester_email) == subject.email
        if subject.email
        else pr.c.id == subject.request_id
    )
    return sa.select(pr.c.id).where(same, pr.c.organisation_id == subject.organisation_id)


def rows_query(table: str, subject) -> sa.Select | None:
    """The subject's rows of ``table`` as the school may hand them out, or None."""
    tbl = t(table)
    if subject.pupil_id is not None:
        cond = condition(table, pupil_id=subject.pupil_id)
        requester_only = REQUESTER_ONLY.get(table)
        if cond is not None and requester_only is not None:
            cond = sa.and_(cond, requester_only(subject.requester_id or -1))
    else:
        cond = condition(table, user_id=subject.user_id) if subject.user_id else None
        by_email = {
            "privacy_requests": lambda: tbl.c.id.in_(_requests_by_email(subject)),
            "request_events": lambda: tbl.c.request_id.in_(_requests_by_email(subject)),
            "data_exports": lambda: tbl.c.request_id.in_(_requests_by_email(subject)),
        }
        if (subject.email or subject.request_id) and table in by_email:
            cond = by_email[table]() if cond is None else sa.or_(cond, by_email[table]())
        narrow = school_rows(table, subject.organisation_id, whole_account=subject.whole_account)
        if cond is not None and narrow is not None:
            cond = sa.and_(cond, narrow)
    if cond is None:
        return None
    columns: list[sa.ColumnElement[Any]] = list(tbl.columns)
    if subject.pupil_id is None and not subject.whole_account and table in SHARED_COLUMNS:
        # The account of a person of several schools: the contact details, the rest blank.
        columns = [c if c.name in SHARED_COLUMNS[table] else sa.null().label(c.name) for c in columns]
    return sa.select(*columns).where(cond).order_by(*(tbl.primary_key.columns or tbl.columns))


def _secret(table: str, column: str) -> bool:
    col = INVENTORY[table].personal.get(column)
    return bool(col and col.category is Category.SECURITY and column.endswith(("_hash", "_secret")))


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def cell(table: str, column: str, row, labels: Labels):
    """One value as the export shows it: secrets only as "set", keys to people, children,
    classes and activities as words, the photo as its file in the zip."""
    value = row[column]
    if value is None:
        return None
    if _secret(table, column):
        return "set"
    if (table, column) == ("contributions", "photo_key"):
        return f"photos/{row['id']}.jpg"
    if (table, column) == ("contributions", "thumb_key"):
        return "a smaller copy of the same photo"
    if (table, column) == ("data_exports", "file_key"):
        return "stored encrypted"
    if (table, column) == ("data_exports", "flagged"):
        return f"{how_many(len(value), 'item')} checked by the school office"
    target = labels.target(table, column)
    if target is not None:
        return labels.get(target, value)
    return _plain(value)


def entry(name: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A zip entry dated now (UK time), readable by its owner."""
    info = zipfile.ZipInfo(name, date_time=datetime.now(LONDON).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


@dataclass
class Result:
    """What was written: items to review, records per table, photos, items held back."""

    flagged: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    photos: int = 0
    held_back: int = 0
    blanked: int = 0
    applicable: list[str] = field(default_factory=list)  # tables that could hold the subject's


def write(
    path: str,
    subject,
    *,
    request_id: int,
    removed: set[str],
    workdir: str,
    redacted: Collection[str] = frozenset(),
) -> Result:
    """Write the export of ``subject`` to a zip at ``path``, leaving out the ``removed`` items and
    blanking out other children's names in the ``redacted`` ones (the same in HTML, JSON, CSV)."""
    result, labels = Result(), Labels(subject)
    photos: list[tuple[int, str]] = []  # (contribution id, stored key)
    json_path, body_path = f"{workdir}/data.json", f"{workdir}/body.html"
    req = db.session.get(PrivacyRequest, request_id)
    with (
        # the readable page in the requester's language; data.json and the CSV files stay English
        i18n.in_language(req.language if req else None),
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        open(json_path, "w", encoding="utf-8") as js,
        open(body_path, "w", encoding="utf-8") as body,
    ):
        js.write('{"records": {')
        first_table = True
        for table in exported_tables():
            query = rows_query(table, subject)
            if query is None:
                continue
            result.applicable.append(table)
            count = _write_table(
                zf, js, body, table, query, labels, (removed, redacted), result, photos, first_table
            )
            if count:
                first_table = False
                result.counts[table] = count
        js.write("}, ")
        js.write(f'"about": {json.dumps(_about(subject, request_id, result))}, ')
        js.write(f'"explanations": {json.dumps(explanations(list(result.counts)))}}}')
        for contribution_id, key in photos:
            try:
                data = storage.get(key)
            except FileNotFoundError:
                current_app.logger.warning("export: photo of contribution %s is missing", contribution_id)
                continue
            zf.writestr(entry(f"photos/{contribution_id}.jpg", zipfile.ZIP_STORED), data)
            result.photos += 1
        js.close()
        body.close()
        zf.write(json_path, "data.json")
        _write_index(zf, body_path, subject, request_id, result)
        zf.writestr(entry("style.css"), CSS)
    return result


def _write_table(zf, js, body, table, query, labels, decided, result, photos, first_table) -> int:
    removed, redacted = decided
    columns = [c.name for c in t(table).columns]
    shown = [c for c in columns if not hidden(table, c)]
    count, writer, text = 0, None, None
    try:
        for batch in db.session.execute(query.execution_options(yield_per=BATCH)).partitions():
            mappings = [dict(row._mapping) for row in batch]
            labels.prefetch(table, mappings)
            for row in mappings:
                item_id = f"{table}:{row.get('id')}"
                if item_id in removed:
                    result.held_back += 1
                    continue
                reasons = labels.flag_reasons(table, row)
                if reasons:
                    result.flagged.append(
                        {"id": item_id, "table": table, "row": row["id"], "reasons": reasons}
                    )
                if item_id in redacted:
                    row = labels.redacted(table, row)
                    result.blanked += 1
                values = [cell(table, c, row, labels) for c in columns]
                if writer is None:
                    text = io.TextIOWrapper(
                        zf.open(entry(f"{table}.csv"), "w"), encoding="utf-8-sig", newline=""
                    )
                    writer = csv_safe.writer(text)
                    writer.writerow(columns)
                    js.write(("" if first_table else ", ") + f"{json.dumps(table)}: [")
                    section_start(body, table, shown)
                writer.writerow(
                    ["" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else v for v in values]
                )
                js.write(("" if count == 0 else ", ") + json.dumps(dict(zip(columns, values, strict=True))))
                thumb = _thumb(row) if table == "contributions" else None
                body.write(
                    "<tr>"
                    + "".join(
                        f"<td>{html_value(table, c, v, thumb)}</td>"
                        for c, v in zip(columns, values, strict=True)
                        if c in shown
                    )
                    + "</tr>\n"
                )
                if table == "contributions" and row.get("photo_key"):
                    photos.append((row["id"], row["photo_key"]))
                count += 1
    finally:
        if text is not None:
            text.flush()
            text.detach().close()  # the zip entry under the wrapper (detach leaves it open)
    if count:
        js.write("]")
        link = f'<a href="{table}.csv">{table}.csv</a>'
        also = ngettext(
            "%(num)s entry, also in the spreadsheet %(file)s.",
            "%(num)s entries, also in the spreadsheet %(file)s.",
            count,
            file=Markup(link),
        )
        body.write(f"</tbody></table></div><p>{also}</p></section>\n")
    return count


def _thumb(row: dict) -> tuple[str, int, int] | None:
    """A photo's thumbnail as a data: address with its size, for the readable page to show
    without any other file (a phone opens the one page); None when it has none."""
    if not row.get("photo_key") or not row.get("thumb_key"):
        return None
    try:
        data = storage.get(row["thumb_key"])
    except FileNotFoundError:
        return None
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        kind = Image.MIME.get(image.format or "", "image/jpeg")
    return f"data:{kind};base64,{base64.b64encode(data).decode()}", width, height


def _about(subject, request_id: int, result: Result) -> dict:
    org = db.session.get_one(Organisation, subject.organisation_id)
    return {
        "school": org.name,
        "request": f"R{request_id}",
        "made_at": utcnow().isoformat(),
        "about": "a child" if subject.pupil_id else "the person who asked",
        "automated_decisions": NO_AUTOMATED_DECISIONS,
        "items_held_back_after_review": result.held_back,
        "items_with_names_blanked_out": result.blanked,
        "photos": result.photos,
    }


def _write_index(zf, body_path: str, subject, request_id: int, result: Result) -> None:
    org = db.session.get(Organisation, subject.organisation_id)
    req = db.session.get(PrivacyRequest, request_id)
    page = render_template(
        "privacy/export_index.html",
        organisation=org,
        request=req,
        result=result,
        child=subject.pupil_id is not None,
        made_at=utcnow().astimezone(LONDON),
        language=i18n.current(),
        sections=[(table, gettext(SECTIONS[table][0]), n) for table, n in result.counts.items()],
        not_held=[gettext(SECTIONS[table][0]) for table in result.applicable if table not in result.counts],
        recipients=[
            RECIPIENTS[r]
            for r in RECIPIENTS
            if any(r in INVENTORY[table].recipients for table in result.counts)
        ],
        no_automated_decisions=gettext(NO_AUTOMATED_DECISIONS),
        marker=MARKER,
        css=CSS,
    )
    head, _, tail = page.partition(MARKER)
    with zf.open(entry("index.html"), "w") as raw, open(body_path, "rb") as src:
        raw.write(head.encode())
        shutil.copyfileobj(src, raw)
        raw.write(tail.encode())
