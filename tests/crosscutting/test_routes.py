"""Every route declares who may use it (P12)."""

import pytest

# Routes Flask itself adds; everything else must carry an app.core.authz rule.
FRAMEWORK = {"static"}


@pytest.mark.promise("P12")
def test_every_route_declares_its_access_rule(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "_access", None):
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert missing == []


def test_public_routes_are_an_explicit_short_list(app):
    public = sorted(
        r.endpoint
        for r in app.url_map.iter_rules()
        if getattr(app.view_functions.get(r.endpoint), "_access", "") == "public"
    )
    # Anything new here must be something a stranger may see: review it.
    allowed = {
        # the site, its assets and the privacy pages anyone may read
        "site.index",
        "site.privacy_notice",
        "site.cookies",
        "site.health",
        "site.choose_language",
        "assets.file",
        "cookies.choice",
        "privacy.home",
        # signing in: a stranger must reach these to become signed in
        "auth.signin",
        "auth.link_request",
        "auth.link_use",
        "auth.code_request",
        "auth.code_check",
        "auth.mfa_verify",
        "auth.reset_request",
        "auth.reset_use",
        # joining from an invitation (the token or letter code is the credential)
        "parents.join",
        "parents.join_with_code",
        "office.staff_join",
        # rights for people without an account, and one-click unsubscribe (the token decides)
        "privacy.ask",
        "privacy.confirm_request",
        "privacy.confirm_request_post",
        "privacy.unsubscribe",
        # SendGrid's event webhook: refused without SendGrid's signature (test_email_events.py)
        "webhooks.sendgrid",
    }
    assert set(public) - allowed == set(), "new public routes: review and add them here"
