"""Hometime: weekly home-learning activities between small schools and families."""

from __future__ import annotations

import logging
import os

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages and CLI commands."""
    from app.core import config as settings
    from app.core.application import Hometime
    from app.core.security import DatabaseInt

    app = Hometime(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(settings.INSTANCE),
        instance_relative_config=True,
    )
    app.url_map.converters["int"] = DatabaseInt  # before any route: ids beyond the range 404

    settings.load(app, config)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from app.core import compression, contexts
    from app.core.extensions import csrf, db, limiter, login, migrate
    from app.core.redis_conn import redis_url

    compression.init_app(app)  # first: its after_request hook runs last, on the finished response
    db.init_app(app)
    # Each registers SQLAlchemy listeners: the pool's check, and BEGIN only before writes or locks.
    from app.core import connections, plans, transactions  # noqa: F401

    plans.init_app(app)  # each prepared statement planned once, unless it binds a long list

    migrate.init_app(app, db, compare_type=True)
    csrf.init_app(app)
    login.init_app(app)
    contexts.install()  # Flask-Login's and Flask-Babel's context reads without the proxies
    url = redis_url(app)
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", "redis+unix://" + url[len("unix://") :] if url.startswith("unix://") else url
    )
    limiter.init_app(app)

    from app import views
    from app.core import assets, authz, i18n, security
    from app.core import error_pages as errors

    authz.init_app(app)
    i18n.init_app(app)
    assets.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    views.init_app(app)
    from app.compliance import notices

    notices.init_app(app)  # noqa: E702  notice banner (P07)
    from app.families import settings as family_settings

    family_settings.init_app(app)  # the cookie choice's consents (P06)

    # Every view module, so that its routes are on its blueprint before the blueprint is
    # registered (the blueprint packages do not import them: that made a cycle). Imported only
    # for that, each under a name of its own (several modules share a name).
    from app.auth import bp as auth_bp
    from app.auth import hooks, link_views, mfa_views, password_views, signin_views  # noqa: F401
    from app.compliance import notices_family_views, notices_views, register_views  # noqa: F401
    from app.compliance.breaches import office_views as breaches_office  # noqa: F401
    from app.core.cookies import bp as cookies_bp
    from app.dataprotection.exports import family_views as exports_family  # noqa: F401
    from app.dataprotection.exports import office_views as exports_office  # noqa: F401
    from app.dataprotection.requests import family_views as requests_family  # noqa: F401
    from app.dataprotection.requests import office_views as requests_office  # noqa: F401
    from app.dataprotection.retention import office_views as retention_office  # noqa: F401
    from app.dataprotection.rights import office_views as rights_office  # noqa: F401
    from app.families import (  # noqa: F401
        account_views,
        join_views,
        office_home_views,
        roster_views,
        settings_views,
        staff_views,
    )
    from app.families import office_views as families_office  # noqa: F401
    from app.learning import (  # noqa: F401
        class_views,
        library_views,
        media_views,
        planner_views,
        report_views,
        teacher_views,
        topic_views,
    )
    from app.learning import family_views as learning_family  # noqa: F401
    from app.messaging import office_views as messaging_office  # noqa: F401
    from app.messaging import unsubscribe_views  # noqa: F401
    from app.messaging.webhooks import bp as webhooks_bp
    from app.office import bp as office_bp
    from app.parents import bp as parents_bp
    from app.privacy import bp as privacy_bp
    from app.teachers import bp as teachers_bp

    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(parents_bp, url_prefix="/family")
    app.register_blueprint(teachers_bp, url_prefix="/teach")
    app.register_blueprint(office_bp, url_prefix="/office")
    app.register_blueprint(privacy_bp, url_prefix="/privacy")
    app.register_blueprint(cookies_bp, url_prefix="/cookies")
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")
    if app.config["ENV_NAME"] != "production":
        from app.messaging.outbox_views import bp as dev_bp

        app.register_blueprint(dev_bp, url_prefix="/dev")

    from app.families.invitations import open_invitation_url

    app.jinja_env.globals["invitation_url"] = open_invitation_url
    from app.learning.starter_words import lines, school_words, starter_words

    app.jinja_env.globals["starter_words"] = starter_words  # the starter library, translated
    app.jinja_env.globals["school_words"] = school_words  # what the school wrote, or the library
    app.jinja_env.globals["lines"] = lines  # plain text with its line breaks
    from app.learning import controls
    from app.learning.activities import activity_card, kind_label, topic_card
    from app.learning.engagement import face_words

    app.jinja_env.globals["kind_label"] = kind_label  # "Video", "Game" ... in the page's language
    app.jinja_env.globals["activity_card"] = activity_card  # one activity of a topic card
    app.jinja_env.globals["topic_card"] = topic_card  # a weekly topic: {% call(item) topic_card(...) %}

    app.jinja_env.globals["face_words"] = face_words
    from app.core import form_fields

    app.jinja_env.globals["form_fields"] = form_fields  # exported by _forms.html, teachers/_form.html
    from app.families import toggle_cards

    app.jinja_env.globals["toggle_cards"] = toggle_cards  # exported by parents/_settings.html
    controls.init_app(app)  # a family's rating and sending controls under each activity

    from app import cli

    cli.init_app(app)
    return app
