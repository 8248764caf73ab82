"""The clock for data-protection requests (P27): pure date arithmetic, no database.

The rules, as the promise and the ICO's guidance on the time limit state them:

* **Start.** The day the request arrived (whatever day of the week), or, when the requester's
  identity had to be checked, the day it was checked.
* **Statutory date.** "Calculate the time limit from the day you receive the request ... until the
  corresponding calendar date in the next month. If this is not possible because the following
  month is shorter (and there is no corresponding calendar date), the date for response is the last
  day of the following month. If the corresponding date falls on a weekend or a public holiday, you
  have until the next working day" (ICO). Public holidays are the bank holidays of England and
  Wales (the ``holidays`` package, United Kingdom with subdivision ``ENG``; Wales has the same set).
* **Notice date.** 30 days after the start (the school's own notice). It is *not* moved to a
  working day: the notice promises 30 days, full stop.
* **Deadline.** The earlier of the two ("where the notices and the law differ, the stricter wins").
* **Pause.** Asking for clarification stops the clock; the whole days between the pause and the
  resumption push both dates later (the raw dates are moved by the paused days *before* the
  statutory one is moved to a working day, so the clock gains exactly the paused days).
* **Extension.** "A further two months" for complex requests, measured with the same
  corresponding-calendar-date rule: an extension of ``n`` months gives the date ``1 + n`` months
  after the start (the start's own day of the month, or that month's last day when it has none),
  plus the paused days, moved to the next working day. So each month step is taken from the
  start's day, not from an already shortened date: 31 January extended by one month is 31 March,
  not 28 March. The 30-day notice date does not cap an extended deadline (the notice allows the
  extension). An extension is only possible on or before the first deadline.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays

NOTICE_DAYS = 30
MAX_EXTENSION_MONTHS = 2
DUE_SOON_DAYS = 7


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or that month's last day when it has no such date."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holidays(year: int) -> list[date]:
    """England and Wales bank holidays of ``year`` (including days that fall on a weekend)."""
    return sorted(_bank_holidays(year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the next one."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def clock_start(received_on: date, identity_checked_on: date | None = None) -> date:
    """The day the clock starts: the identity check when there was one, else the arrival."""
    return identity_checked_on or received_on


def statutory_date(start: date, *, paused_days: int = 0, months: int = 1) -> date:
    """The corresponding date ``months`` after ``start`` (or that month's last day), plus the
    paused days, moved to the next working day."""
    return next_working_day(add_months(start, months) + timedelta(days=paused_days))


def notice_date(start: date, *, paused_days: int = 0) -> date:
    """30 days after the start, plus the paused days (not moved to a working day)."""
    return start + timedelta(days=NOTICE_DAYS + paused_days)


def first_deadline(start: date, *, paused_days: int = 0) -> date:
    """The deadline before any extension: the earlier of the statutory and the notice date."""
    return min(statutory_date(start, paused_days=paused_days), notice_date(start, paused_days=paused_days))


def due_date(start: date, *, paused_days: int = 0, extension_months: int = 0) -> date:
    """The deadline of a request with the given pause and extension (see the module docstring)."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_MONTHS} months")
    if paused_days < 0:
        raise ValueError("paused days cannot be negative")
    if extension_months == 0:
        return first_deadline(start, paused_days=paused_days)
    return statutory_date(start, paused_days=paused_days, months=1 + extension_months)


def pause_days(paused_since: date, resumed_on: date) -> int:
    """Whole days the clock stood still: from the day of the pause to the day of resumption."""
    if resumed_on < paused_since:
        raise ValueError("a request cannot resume before it was paused")
    return (resumed_on - paused_since).days


def can_extend(start: date, today: date, *, paused_days: int = 0) -> bool:
    """True while the first (unextended) deadline has not passed."""
    return today <= first_deadline(start, paused_days=paused_days)


def days_left(due: date, today: date) -> int:
    """Days until ``due`` (0 on the day itself; negative when overdue)."""
    return (due - today).days


def describe_due(due: date | None, today: date) -> str:
    """A short phrase for the office dashboard: "Due today", "3 days left", "Overdue by 1 day"."""
    if due is None:
        return "No deadline yet"
    left = days_left(due, today)
    if left == 0:
        return "Due today"
    if left > 0:
        return f"{left} day{'s' if left != 1 else ''} left"
    return f"Overdue by {-left} day{'s' if left != -1 else ''}"
