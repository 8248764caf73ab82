"""Command-line commands: ``flask --app wsgi demo`` and friends."""
from __future__ import annotations

import click
from flask import current_app


def init_app(app) -> None:
    from app.services import storage

    storage.init_cli(app)

    @app.cli.command("demo")
    def demo() -> None:
        """Create the demo school (refuses in production; does nothing if it exists)."""
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("The demo school is never created in production.")
        from app.demo import seed

        created = seed()
        click.echo("Demo school created." if created else "Demo school already exists.")

    @app.cli.group("retention")
    def retention_group() -> None:
        """Preview or run the retention rules (P21)."""

    def _as_of(value):
        if value and current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("--as-of is for rehearsals: it is refused in production.")
        return value.date() if value else None

    @retention_group.command("preview")
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Show what would happen by this day (YYYY-MM-DD).")
    def retention_preview(as_of) -> None:
        """Print what would be notified, closed, anonymised and deleted, and why."""
        from app.services.retention import preview

        day = as_of.date() if as_of else None
        for row in preview(day):
            click.echo(f"{row['count']:>7}  {row['rule']:<26} {row['promise']}  {row['what']}")

    @retention_group.command("run")
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Rehearse as if it were this day (refused in production).")
    def retention_run(as_of) -> None:
        """Run every rule now (or as of a day, outside production)."""
        from app.services.retention import RetentionFailed, run_all

        try:
            done, failed = run_all(_as_of(as_of)), {}
        except RetentionFailed as exc:
            done, failed = exc.done, exc.failed
        for rule, count in done.items():
            click.echo(f"{count:>7}  {rule}")
        if failed:
            raise click.ClickException(
                "these rules failed (see the log) and will be picked up by the next run: "
                + ", ".join(f"{rule} ({error})" for rule, error in failed.items()))
