"""Command-line commands: ``flask --app wsgi demo`` and friends."""

from __future__ import annotations

import click
from flask import current_app


def init_app(app) -> None:
    from app.core import storage

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

    def _show_preview(day, limit: int) -> None:
        from app.dataprotection.retention.rules import preview

        for row in preview(day, limit=limit):
            click.echo(f"{row['count']:>7}  {row['rule']:<26} {row['promise']}  {row['what']}")
            if row["ids"]:
                more = row["count"] - len(row["ids"])
                click.echo(
                    f"{'':>9}{row['kind']} ids: "
                    + ", ".join(map(str, row["ids"]))
                    + (f" (and {more} more)" if more > 0 else "")
                )

    @retention_group.command("preview")
    @click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Show what would happen by this day (YYYY-MM-DD).",
    )
    @click.option(
        "--limit",
        type=click.IntRange(1, 1000),
        default=20,
        show_default=True,
        help="How many record ids to list for each rule.",
    )
    def retention_preview(as_of, limit) -> None:
        """Print what would be notified, closed, anonymised and deleted, and why: a count, the
        kind of record and the first ids for each rule. Nothing is changed."""
        _show_preview(as_of.date() if as_of else None, limit)

    @retention_group.command("run")
    @click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Rehearse as if it were this day (refused in production). This is a real "
        "run: what is due by that day is really deleted.",
    )
    @click.option(
        "--yes", is_flag=True, help="Go ahead without asking (needed when not run from a terminal)."
    )
    @click.option(
        "--dry-run", is_flag=True, help="Only list what the run would do (as `preview`); change nothing."
    )
    @click.option(
        "--limit",
        type=click.IntRange(1, 1000),
        default=20,
        show_default=True,
        help="With --dry-run: how many record ids to list for each rule.",
    )
    def retention_run(as_of, yes, dry_run, limit) -> None:
        """Run every rule now (or as of a day, outside production). It really closes accounts,
        deletes records and files and sends messages; --dry-run lists what it would do."""
        import sys

        from app.core.extensions import db
        from app.dataprotection.retention.rules import RetentionFailed, run_all

        day = _as_of(as_of)
        if dry_run:
            _show_preview(day, limit)
            click.echo("Dry run: nothing was changed.")
            return
        where = db.engine.url.render_as_string(hide_password=True)
        warning = (
            "This really runs the retention rules"
            + (f" as if it were {day:%-d %B %Y}" if day else "")
            + f" on {where}: accounts are closed, records and files are deleted for "
            "good and messages are sent. It cannot be undone."
        )
        if not yes:
            if not sys.stdin.isatty():
                raise click.ClickException(
                    warning + " Add --yes to go ahead, or --dry-run to list what it would do."
                )
            click.echo(warning)
            click.confirm("Go ahead?", abort=True)
        try:
            done, failed = run_all(day), {}
        except RetentionFailed as exc:
            done, failed = exc.done, exc.failed
        for rule, count in done.items():
            click.echo(f"{count:>7}  {rule}")
        if failed:
            raise click.ClickException(
                "these rules failed (see the log) and will be picked up by the next run: "
                + ", ".join(f"{rule} ({error})" for rule, error in failed.items())
            )
