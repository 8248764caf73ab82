"""Command-line commands: ``flask --app wsgi demo`` and friends."""
from __future__ import annotations

import click
from flask import current_app


def init_app(app) -> None:
    @app.cli.command("demo")
    def demo() -> None:
        """Create the demo school (refuses in production; does nothing if it exists)."""
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("The demo school is never created in production.")
        from app.demo import seed

        created = seed()
        click.echo("Demo school created." if created else "Demo school already exists.")
