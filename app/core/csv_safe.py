"""The one way the app writes CSV: cells that a spreadsheet would run as a formula are defused.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be taken for a
formula by Excel, LibreOffice or Google Sheets when the office opens a download (OWASP "CSV
injection"): a parent's comment ``=HYPERLINK("http://…","Click")`` would become a live link. Such
a text cell is written with a leading single quote, which spreadsheets show as text. Only text is
changed: numbers (a negative id, say) stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: text that could start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, stream, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs: Any) -> SafeWriter:
    """Like ``csv.writer(stream, **kwargs)``, with formula cells defused."""
    return SafeWriter(stream, **kwargs)
