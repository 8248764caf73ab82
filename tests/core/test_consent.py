"""Consent history is append-only and withdrawal takes effect at once (P01, P08)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.core import consent
from app.core.extensions import db
from app.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Contribution,
    ContributionKind,
    PrivacyNotice,
    utcnow,
)
from tests import factories as f
from tests import teaching as t


@pytest.mark.promise("P08")
def test_history_is_append_only_and_the_latest_decision_wins(ctx):
    p = f.parent()
    consent.record(p.id, ConsentPurpose.NEWS, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    assert consent.has_consent(p.id, ConsentPurpose.NEWS)
    consent.record(p.id, ConsentPurpose.NEWS, False, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    assert not consent.has_consent(p.id, ConsentPurpose.NEWS)
    assert [r.granted for r in consent.history(p.id)] == [True, False]
    assert consent.current_state(p.id)[ConsentPurpose.NEWS] is False


@pytest.mark.promise("P08")
def test_the_database_refuses_to_rewrite_a_consent_record(ctx):
    p = f.parent()
    consent.record(p.id, ConsentPurpose.NEWS, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.update(ConsentRecord).values(granted=False))
    assert consent.has_consent(p.id, ConsentPurpose.NEWS)


@pytest.mark.promise("P01")
def test_a_consent_records_the_notice_version_in_force(ctx):
    org = f.school()
    db.session.add(
        PrivacyNotice(organisation_id=org.id, version="2.1", summary="s", body="b", published_at=utcnow())
    )
    p = f.parent()
    consent.record(
        p.id,
        ConsentPurpose.SERVICE,
        True,
        method=ConsentMethod.INVITATION,
        organisation_id=org.id,
        on_behalf_of="self and child",
    )
    db.session.commit()
    row = consent.latest(p.id, ConsentPurpose.SERVICE)
    assert row.notice.version == "2.1" and row.method is ConsentMethod.INVITATION
    assert row.organisation_id == org.id and row.on_behalf_of == "self and child"


@pytest.mark.promise("P08")
def test_withdrawing_the_promotion_opt_in_withdraws_every_photo_and_comment(ctx):
    org = f.school()
    cls = f.school_class(org)
    p = f.parent()
    child = f.pupil(cls, p)
    eng = t.done(child, t.topic(org, [], [t.activity(org)]).items[0], by=p)
    db.session.add_all(
        [
            Contribution(
                engagement_id=eng.id,
                author_id=p.id,
                kind=ContributionKind.COMMENT,
                body="We loved it",
                promo_opt_in=True,
            )
            for _ in range(2)
        ]
    )
    consent.record(p.id, ConsentPurpose.PROMO_PHOTOS, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    consent.record(p.id, ConsentPurpose.PROMO_PHOTOS, False, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    rows = db.session.scalars(sa.select(Contribution)).all()
    assert all(not c.promo_opt_in and c.promo_withdrawn_at for c in rows)
