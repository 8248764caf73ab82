"""Helpers for the notification tests: carers with a child, their deliveries, SMS consent."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import get_queue
from app.models import ConsentMethod, ConsentPurpose, ConsentRecord, NotificationDelivery, Source
from tests import factories as f


def deliveries(**where):
    query = sa.select(NotificationDelivery).order_by(NotificationDelivery.id)
    for key, value in where.items():
        query = query.where(getattr(NotificationDelivery, key) == value)
    db.session.expire_all()
    return db.session.scalars(query).all()


def sms_consent(user, granted=True):
    db.session.add(
        ConsentRecord(
            user_id=user.id,
            purpose=ConsentPurpose.SMS_REMINDERS,
            granted=granted,
            method=ConsentMethod.WEB_FORM,
        )
    )
    db.session.commit()


def carer_and_child(cls, *, source=Source.SCHOOL, **parent_kw):
    carer = f.parent(**parent_kw)
    child = f.pupil(cls, carer, source=source)
    return carer, child


def release_scheduled():
    """Do what RQ's scheduler does when a scheduled job's time comes (tests run without it)."""
    queue = get_queue()
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        job = queue.fetch_job(job_id)
        registry.remove(job)
        queue.enqueue_job(job)
