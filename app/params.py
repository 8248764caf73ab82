"""Numbers and days read from query strings and forms, bounded so that no value a person can
type reaches the database or date arithmetic out of range: out-of-range input is treated like
garbled input (the default, or a form error), never a server error.

Use them as the ``type`` of ``request.args.get`` / ``request.form.get``: a ``ValueError`` makes
Werkzeug return the default.
"""

from __future__ import annotations

from datetime import date

DB_INT_MAX = 2**31 - 1  # every id and counter column is a PostgreSQL ``integer``
MAX_PAGE = 10_000
FIRST_YEAR, LAST_YEAR = 1900, 2200  # any day Hometime has a use for is well inside these


def db_int(value) -> int:
    """An integer that fits the database's ``integer`` columns; ValueError otherwise."""
    number = int(value)
    if not -DB_INT_MAX - 1 <= number <= DB_INT_MAX:
        raise ValueError(f"{value!r} is out of range")
    return number


def page_number(value) -> int:
    """A page number from 1 to MAX_PAGE (a bigger one shows the last possible page: empty)."""
    return min(max(1, int(value)), MAX_PAGE)


def day(value) -> date:
    """An ISO date (``2026-03-05``) between FIRST_YEAR and LAST_YEAR; ValueError otherwise."""
    parsed = date.fromisoformat((value or "").strip())
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(f"{value!r} is out of range")
    return parsed
