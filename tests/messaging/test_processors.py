"""P14: no data leaves for third parties beyond the processors in the register, and each receives
only what the register says (email: name, address and the message; SMS: number and the message)."""

import json

import pytest

from app.core.extensions import db
from app.families import invitations
from app.messaging.notify import send_now
from app.models import Channel, User, UserKind, UserStatus
from app.models.inventory import INVENTORY, RECIPIENTS
from tests import factories as f


@pytest.mark.promise("P14")
def test_the_register_names_every_processor_and_nothing_else(ctx):
    used = {r for entry in INVENTORY.values() for r in entry.recipients}
    assert used == set(RECIPIENTS) == {"hosting", "sendgrid", "twilio"}
    assert "name" in RECIPIENTS["sendgrid"] and "email" in RECIPIENTS["sendgrid"]
    assert "mobile" in RECIPIENTS["twilio"]


@pytest.mark.promise("P14")
def test_sendgrid_receives_the_address_name_and_message_but_no_school_record(ctx, run_jobs, provider_stub):
    org = f.school(name="Yew Primary")
    cls = f.school_class(org)
    carer = User(
        kind=UserKind.PARENT,
        name="Cy Carer",
        email="cy@family.example",
        mobile="+447911123456",
        status=UserStatus.INVITED,
    )
    db.session.add(carer)
    db.session.commit()
    f.pupil(cls, carer, first_name="Zed", upn="X801200001234", pupil_premium=True)
    invitations.invite(org.id, carer)
    db.session.commit()
    assert run_jobs() == 0
    ((body, personalization),) = provider_stub.emails_to("cy@family.example")
    sent = json.dumps(body)
    assert "cy@family.example" in sent and "Yew Primary" in sent
    for private in ("X801200001234", "+447911123456", "7911123456", "premium", "Premium"):
        assert private not in sent, private


@pytest.mark.promise("P14")
def test_twilio_receives_only_the_number_and_the_text(ctx, provider_stub):
    assert send_now(Channel.SMS, "+447911123456", "sms_code", code="123456", minutes=10) is not False
    (call,) = provider_stub.twilio_calls
    assert set(call.body) == {"To", "From", "Body"}
    assert call.body["To"] == "+447911123456" and "123456" in call.body["Body"]
