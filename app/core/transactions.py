"""One transaction per public write function: the block commits on success and rolls back (and
re-raises) on any error, so a refusal or a crash leaves nothing half-saved."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.core.extensions import db


@contextmanager
def transaction() -> Iterator[None]:
    """``with transaction(): ...``: commit when the block ends normally (a ``return`` inside it
    included); on any exception roll back and re-raise it."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
