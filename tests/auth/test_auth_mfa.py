"""Two-step sign-in for staff: enrolment, TOTP and recovery codes, REQUIRE_STAFF_MFA."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import ActivityLog, RecoveryCode, Role, User
from tests import factories as f
from tests.qr_scan import scan


def events(user):
    return list(
        db.session.scalars(
            sa.select(ActivityLog.event).where(ActivityLog.user_id == user.id).order_by(ActivityLog.id)
        )
    )


def secret_on(page) -> str:
    text = page.get_data(as_text=True)
    return re.search(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>', text).group(1).replace(" ", "")


def enrol(client, user) -> tuple[str, list[str]]:
    """Sign in with a password, enrol with a code computed by pyotp; the secret and the codes."""
    f.login(client, user)
    secret = secret_on(client.get("/auth/mfa"))
    page = client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()})
    assert page.status_code == 200
    codes = re.findall(
        r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", page.get_data(as_text=True)
    )
    return secret, codes


def password_step(client, user, **extra):
    return client.post("/auth/signin", data={"email": user.email, "password": f.PASSWORD, **extra})


def later_code(secret) -> str:
    """The next time step's code: the enrolment already used this one (no replays)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


@pytest.fixture()
def teacher():
    return f.staff(f.school(), Role.TEACHER)


@pytest.mark.promise("P15")
def test_enrolment_with_a_qr_code_and_ten_recovery_codes(client, teacher):
    f.login(client, teacher)
    page = client.get("/auth/mfa")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', text).group(1)
    secret = secret_on(page)
    # The phone's authenticator app reads the same secret from the QR code as the text shows.
    scanned = pyotp.parse_uri(scan(qr))
    assert scanned.secret == secret and scanned.issuer == "Hometime" and scanned.name == teacher.email
    assert secret_on(client.get("/auth/mfa")) == secret  # a reload shows the same secret

    wrong_code = f"{(int(pyotp.TOTP(secret).now()) + 1) % 10**6:06d}"
    wrong = client.post("/auth/mfa", data={"code": wrong_code})
    assert wrong.status_code == 422 and b"That code is not right" in wrong.data
    db.session.refresh(teacher)
    assert teacher.mfa_enabled_at is None

    page = client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()})
    assert page.status_code == 200 and b"We will not show them again" in page.data
    codes = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", page.get_data(as_text=True))
    assert len(set(codes)) == 10
    db.session.refresh(teacher)
    assert teacher.mfa_enabled_at is not None
    # The secret is stored encrypted, the codes only as hashes.
    assert secret not in teacher.totp_secret and teacher.totp_secret.startswith("gAAAA")
    hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    assert events(teacher) == ["mfa_enrolled"]
    # Once on, the page manages it and never shows the codes again.
    manage = client.get("/auth/mfa").get_data(as_text=True)
    assert "10 unused recovery codes" in manage and codes[0] not in manage


def test_a_reload_or_a_wrong_code_shows_the_same_qr_code(client, teacher):
    f.login(client, teacher)
    image = re.compile(r'<img src="(data:image/svg\+xml[^"]+)"')
    page = client.get("/auth/mfa")
    first = image.search(page.get_data(as_text=True)).group(1)
    again = image.search(client.get("/auth/mfa").get_data(as_text=True)).group(1)
    wrong_code = f"{(int(pyotp.TOTP(secret_on(page)).now()) + 1) % 10**6:06d}"
    wrong = image.search(client.post("/auth/mfa", data={"code": wrong_code}).get_data(as_text=True)).group(1)
    assert first == again == wrong and scan(first).startswith("otpauth://totp/Hometime:")


@pytest.mark.promise("P15")
def test_sign_in_with_a_totp_code(client, teacher):
    secret, _ = enrol(client, teacher)
    client.post("/auth/signout")
    r = password_step(client, teacher)
    assert r.status_code == 303 and r.headers["Location"] == "/auth/mfa/verify"
    # Half signed in is not signed in.
    assert client.get("/teach/").status_code == 302
    with client.session_transaction() as sess:
        assert "_user_id" not in sess and "mfa_pending" in sess
    wrong = client.post("/auth/mfa/verify", data={"code": "12345x"})
    assert wrong.status_code == 422
    r = client.post("/auth/mfa/verify", data={"code": later_code(secret)})
    assert r.status_code == 303 and r.headers["Location"] == "/teach/"
    assert client.get("/teach/").status_code == 200
    assert events(teacher)[-2:] == ["signin_failed", "signin"]
    detail = db.session.scalar(
        sa.select(ActivityLog.detail).where(ActivityLog.event == "signin").order_by(ActivityLog.id.desc())
    )
    assert detail == "password + totp"


def test_a_totp_code_cannot_be_replayed(app, client, teacher):
    secret, _ = enrol(client, teacher)
    code = later_code(secret)
    first = app.test_client()
    password_step(first, teacher)
    assert first.post("/auth/mfa/verify", data={"code": code}).status_code == 303
    second = app.test_client()
    password_step(second, teacher)
    assert second.post("/auth/mfa/verify", data={"code": code}).status_code == 422
    assert second.get("/teach/").status_code == 302


@pytest.mark.promise("P15")
def test_sign_in_with_a_recovery_code_works_once(app, client, teacher):
    _, codes = enrol(client, teacher)
    client.post("/auth/signout")
    password_step(client, teacher)
    r = client.post("/auth/mfa/verify", data={"code": codes[3].upper().replace("-", " ")})
    assert r.status_code == 303 and r.headers["Location"] == "/teach/"
    assert "recovery_code_used" in events(teacher)
    other = app.test_client()
    password_step(other, teacher)
    again = other.post("/auth/mfa/verify", data={"code": codes[3]})
    assert again.status_code == 422
    assert other.get("/teach/").status_code == 302
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
        )
        == 1
    )


def test_five_wrong_codes_end_the_half_sign_in(client, teacher):
    secret, _ = enrol(client, teacher)
    client.post("/auth/signout")
    password_step(client, teacher)
    for _ in range(4):
        assert client.post("/auth/mfa/verify", data={"code": "000000"}).status_code in (422, 303)
    r = client.post("/auth/mfa/verify", data={"code": "999999"})
    assert r.status_code == 303 and r.headers["Location"] == "/auth/signin"
    r = client.post("/auth/mfa/verify", data={"code": later_code(secret)})
    assert r.headers["Location"] == "/auth/signin"
    assert client.get("/teach/").status_code == 302


def test_the_code_step_without_a_password_step_goes_to_sign_in(client):
    r = client.get("/auth/mfa/verify")
    assert r.status_code in (302, 303) and r.headers["Location"] == "/auth/signin"


def test_remember_me_is_carried_through_the_code_step(client, teacher):
    secret, _ = enrol(client, teacher)
    client.post("/auth/signout")
    password_step(client, teacher, remember="y")
    assert client.get_cookie("remember_token") is None
    client.post("/auth/mfa/verify", data={"code": later_code(secret)})
    assert client.get_cookie("remember_token") is not None


def test_required_mfa_forces_enrolment_first(app, client, teacher):
    app.config["REQUIRE_STAFF_MFA"] = True
    try:
        r = password_step(client, teacher)
        assert r.status_code == 303 and r.headers["Location"] == "/auth/mfa"
        for page in ("/teach/", "/auth/account", "/auth/password"):
            assert client.get(page).headers.get("Location") == "/auth/mfa", page
        enrol_page = client.get("/auth/mfa")
        assert b"Your school asks all staff to use two-step sign-in" in enrol_page.data
        secret = secret_on(enrol_page)
        client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()})
        assert client.get("/teach/").status_code == 200
        # Parents are not asked.
        parent = f.parent()
        other = app.test_client()
        other.post("/auth/signin", data={"email": parent.email, "password": f.PASSWORD})
        assert other.get("/family/").status_code == 200
    finally:
        app.config["REQUIRE_STAFF_MFA"] = False


@pytest.mark.promise("P15")
def test_turning_mfa_off_needs_the_current_password(client, teacher):
    enrol(client, teacher)
    r = client.post("/auth/mfa/disable", data={"off-password": "wrong"})
    assert r.status_code == 422 and b"That password is not right" in r.data
    db.session.refresh(teacher)
    assert teacher.mfa_enabled_at is not None
    r = client.post("/auth/mfa/disable", data={"off-password": f.PASSWORD})
    assert r.status_code == 303
    db.session.refresh(teacher)
    assert teacher.mfa_enabled_at is None and teacher.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert events(teacher)[-2:] == ["signin_failed", "mfa_disabled"]
    client.post("/auth/signout")
    assert password_step(client, teacher).headers["Location"] == "/teach/"


@pytest.mark.promise("P15")
def test_new_recovery_codes_need_the_password_and_replace_the_old(client, teacher):
    _, old = enrol(client, teacher)
    assert client.post("/auth/mfa/recovery-codes", data={"codes-password": "wrong"}).status_code == 422
    page = client.post("/auth/mfa/recovery-codes", data={"codes-password": f.PASSWORD})
    assert page.status_code == 200
    new = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "recovery_codes_regenerated" in events(teacher)
    client.post("/auth/signout")
    password_step(client, teacher)
    assert client.post("/auth/mfa/verify", data={"code": old[0]}).status_code == 422
    assert client.post("/auth/mfa/verify", data={"code": new[0]}).status_code == 303


def test_parents_cannot_open_mfa_enrolment(client):
    f.login(client, f.parent())
    assert client.get("/auth/mfa").status_code == 403


def test_totp_secret_survives_key_rotation(app, client, teacher):
    from cryptography.fernet import Fernet

    secret, _ = enrol(client, teacher)
    old_keys = app.config["ENCRYPTION_KEYS"]
    app.config["ENCRYPTION_KEYS"] = Fernet.generate_key().decode() + "," + old_keys
    try:
        client.post("/auth/signout")
        password_step(client, teacher)
        assert client.post("/auth/mfa/verify", data={"code": later_code(secret)}).status_code == 303
    finally:
        app.config["ENCRYPTION_KEYS"] = old_keys
    assert db.session.get(User, teacher.id).mfa_enabled_at is not None
