"""Privacy-notice versions (P07): the office or DPO publishes a new version of the school's
notice with a plain-language summary of what changed, major or minor. Everyone it concerns is
told; a major version shows every signed-in person a banner until they acknowledge it
(app/compliance/notices.py, templates/_notice_banner.html)."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice as C

from app.compliance import notices as service
from app.core.authz import staff_required
from app.core.direct_reads import DirectRead
from app.core.htmx import redirect_after_post, render
from app.dataprotection.common.desk import OFFICE, desk_organisations
from app.dataprotection.common.desk_forms import NoticeForm
from app.dataprotection.common.forms import apply_error
from app.models import ConsentPurpose, ConsentRecord, PrivacyNotice, bound_list
from app.office import bp


def _typed(form: NoticeForm) -> dict:
    """The version the office typed, as both steps (check, then publish) take it."""
    return {"version": form.version.data, "summary": form.summary.data, "body": form.body.data}


@functools.cache
def _versions_read() -> DirectRead:
    """Hometime's notices and those of the schools ``:organisation_ids`` (an array), newest
    first, each with how many people acknowledged it: compiled once per process."""
    acks = (
        sa.select(sa.func.count(sa.distinct(ConsentRecord.user_id)))
        .where(
            ConsentRecord.notice_id == PrivacyNotice.id,
            ConsentRecord.purpose == ConsentPurpose.NOTICE_ACK,
            ConsentRecord.granted.is_(True),
        )
        .scalar_subquery()
    )
    return DirectRead(
        sa.select(PrivacyNotice, acks.label("acks"))
        .where(
            sa.or_(
                PrivacyNotice.organisation_id == sa.any_(bound_list("organisation_ids", sa.Integer)),
                PrivacyNotice.organisation_id.is_(None),
            )
        )
        .order_by(PrivacyNotice.published_at.desc().nulls_last(), PrivacyNotice.id.desc())
    )


@bp.route("/notices", methods=["GET", "POST"])
@staff_required(*OFFICE)
def notices_page():
    """The versions published so far (with how many people acknowledged each) and the form to
    publish the next one."""
    orgs = desk_organisations()
    ids = [o.id for o in orgs]
    form = NoticeForm()
    form.organisation_id.choices = [C(o.id, o.name) for o in orgs]
    status = 200
    if request.method == "POST":
        org_id = form.organisation_id.data if len(orgs) > 1 else orgs[0].id
        if org_id not in ids:
            abort(404)
        if request.form.get("edit") == "yes":
            pass  # back from the preview: the form again, filled in as it was
        elif form.validate_on_submit() and request.form.get("confirm") != "yes":
            # First step: show what families will see and ask before anything is sent.
            try:
                org, version, summary, body = service.check(current_user, org_id, **_typed(form))
            except service.NoticeError as error:
                apply_error(form, error)
                status = error.status
            else:
                return render(
                    "office/notice_preview.html",
                    form=form,
                    org=org,
                    version=version,
                    summary=summary,
                    paragraphs=[p.strip() for p in body.split("\n\n") if p.strip()],
                    major=bool(form.major.data),
                    audience=len(service.audience_ids(org.id)),
                )
        elif form.validate_on_submit():
            try:
                notice = service.publish(current_user, org_id, major=form.major.data, **_typed(form))
            except service.NoticeError as error:
                apply_error(form, error)
                status = error.status
            else:
                flash(
                    f"Version {notice.version} is published. Everyone has been told"
                    + (" and will be asked to acknowledge it." if notice.major else "."),
                    "success",
                )
                return redirect_after_post(url_for("office.notices_page"))
        else:
            status = 422
    versions = _versions_read().run({"organisation_ids": ids})
    # What families see now: each school's newest published version, or Hometime's own notice
    # (organisation_id empty) while the school has published none (as /privacy-notice shows).
    platform = next((n for n, _ in versions if n.organisation_id is None and n.published_at), None)
    current = {
        o.id: next((n for n, _ in versions if n.organisation_id == o.id and n.published_at), platform)
        for o in orgs
    }
    if request.method == "GET" and versions and not form.body.data:
        form.body.data = versions[0][0].body  # start from the current text
    return render(
        "office/notices.html",
        form=form,
        versions=versions,
        current=current,
        schools={o.id: o.name for o in orgs},
        status=status,
    )
