"""The privacy desk's audience: who may use it (office staff and DPOs) and which schools' desk
the signed-in person runs. Shared by the desk pages of requests, breaches and notices."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import g
from flask_login import current_user

from app.core.authz import office_organisation_ids
from app.core.extensions import db
from app.models import Organisation

OFFICE = ("office", "dpo")


def desk_organisations() -> list[Organisation]:
    """The schools whose privacy desk the signed-in person runs: where they are office staff
    or DPO, and every school of a trust they are DPO of (one query, cached per request)."""
    cached = g.get("_desk_orgs")
    if cached is None:
        schools = office_organisation_ids(current_user) or [-1]
        cached = list(db.session.scalars(_statement(), {"schools": schools}))
        g._desk_orgs = cached
    return cached


@functools.cache
def _statement() -> sa.Select:
    """The schools ``:schools`` by name; built once per process (every desk page asks)."""
    return (
        sa.select(Organisation)
        .where(Organisation.id.in_(sa.bindparam("schools", expanding=True)))
        .order_by(Organisation.name, Organisation.id)
    )


def desk_organisation_ids() -> list[int]:
    return [o.id for o in desk_organisations()]
