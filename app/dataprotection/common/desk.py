"""The privacy desk's audience: who may use it (office staff and DPOs) and which schools' desk
the signed-in person runs. Shared by the desk pages of requests, breaches and notices."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import g
from flask_login import current_user

from app.core.authz import office_organisation_ids
from app.core.direct_reads import DirectRead
from app.models import Organisation, bound_list

OFFICE = ("office", "dpo")


def desk_organisations() -> list[Organisation]:
    """The schools whose privacy desk the signed-in person runs: where they are office staff
    or DPO, and every school of a trust they are DPO of (one query, cached per request)."""
    cached = g.get("_desk_orgs")
    if cached is None:
        schools = office_organisation_ids(current_user) or [-1]
        cached = _read().scalars({"schools": schools})
        g._desk_orgs = cached
    return cached


@functools.cache
def _read() -> DirectRead:
    """The schools ``:schools`` (one array) by name; built once per process and run as a direct
    read (every desk page asks)."""
    return DirectRead(
        sa.select(Organisation)
        .where(Organisation.id == sa.any_(bound_list("schools", sa.Integer)))
        .order_by(Organisation.name, Organisation.id)
    )


def desk_organisation_ids() -> list[int]:
    return [o.id for o in desk_organisations()]
