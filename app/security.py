"""Security headers on every response, HTTPS in production, and no caching of personal pages."""
from __future__ import annotations

from flask import request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

# Video embeds only from the providers' privacy-enhanced domains, and only after a tap (P05/P06).
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
])


def init_app(app) -> None:
    production = app.config["ENV_NAME"] == "production"
    if production:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

        @app.before_request
        def _https_only():
            if not request.is_secure:
                from flask import redirect
                return redirect(request.url.replace("http://", "https://", 1), 308)

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["X-Frame-Options"] = "DENY"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if production:
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if (current_user and current_user.is_authenticated and "Cache-Control" not in h
                and response.mimetype == "text/html"):
            h["Cache-Control"] = "private, no-store"
        return response
