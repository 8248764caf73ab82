"""Key rotation re-encrypts two-step sign-in secrets too, so old keys can be dropped (P16)."""

import pyotp
import pytest
from cryptography.fernet import Fernet

from app.auth import totp as mfa
from app.core import storage
from app.core.extensions import db
from app.models import User
from tests import factories as f


@pytest.mark.promise("P16")
def test_rotate_keys_re_encrypts_totp_secrets(app, ctx):
    old = app.config["ENCRYPTION_KEYS"]
    user = f.staff(f.school())
    secret = pyotp.random_base32()
    user.totp_secret = storage.encrypt(secret.encode()).decode()
    db.session.commit()
    new_key = Fernet.generate_key().decode()
    try:
        app.config["ENCRYPTION_KEYS"] = f"{new_key},{old}"
        result = app.test_cli_runner().invoke(args=["storage", "rotate-keys"])
        assert result.exit_code == 0, result.output
        app.config["ENCRYPTION_KEYS"] = new_key  # the old key is gone
        db.session.expire_all()
        assert mfa._secret(db.session.get(User, user.id)) == secret
    finally:
        app.config["ENCRYPTION_KEYS"] = old
