"""The request clock (P27) for every start day of 2025–2030, against a computation written here.

Nothing below imports the app's date helpers to build the expected answers: the month step, the
Easter date and the bank holidays of England and Wales are worked out independently, so a mistake
in ``app/dataprotection/requests/deadlines.py`` (or a change in the ``holidays`` package) shows up as a mismatch.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.dataprotection.requests import deadlines

pytestmark = pytest.mark.promise("P27")

D = date

# England and Wales bank holidays, as gov.uk lists them (weekday dates: substitutes included,
# the weekend day itself left out). No one-off days (jubilee, coronation, funeral) are proclaimed
# for England and Wales in 2025–2030; 2031's New Year's Day is here because extended deadlines of
# late-2030 requests run into 2031.
BANK_HOLIDAYS = {
    # 2025
    D(2025, 1, 1),
    D(2025, 4, 18),
    D(2025, 4, 21),
    D(2025, 5, 5),
    D(2025, 5, 26),
    D(2025, 8, 25),
    D(2025, 12, 25),
    D(2025, 12, 26),
    # 2026: Boxing Day is a Saturday, substitute Monday 28 December
    D(2026, 1, 1),
    D(2026, 4, 3),
    D(2026, 4, 6),
    D(2026, 5, 4),
    D(2026, 5, 25),
    D(2026, 8, 31),
    D(2026, 12, 25),
    D(2026, 12, 28),
    # 2027: Christmas Saturday and Boxing Day Sunday, substitutes Monday 27 and Tuesday 28
    D(2027, 1, 1),
    D(2027, 3, 26),
    D(2027, 3, 29),
    D(2027, 5, 3),
    D(2027, 5, 31),
    D(2027, 8, 30),
    D(2027, 12, 27),
    D(2027, 12, 28),
    # 2028: New Year's Day is a Saturday, substitute Monday 3 January; a leap year
    D(2028, 1, 3),
    D(2028, 4, 14),
    D(2028, 4, 17),
    D(2028, 5, 1),
    D(2028, 5, 29),
    D(2028, 8, 28),
    D(2028, 12, 25),
    D(2028, 12, 26),
    # 2029
    D(2029, 1, 1),
    D(2029, 3, 30),
    D(2029, 4, 2),
    D(2029, 5, 7),
    D(2029, 5, 28),
    D(2029, 8, 27),
    D(2029, 12, 25),
    D(2029, 12, 26),
    # 2030
    D(2030, 1, 1),
    D(2030, 4, 19),
    D(2030, 4, 22),
    D(2030, 5, 6),
    D(2030, 5, 27),
    D(2030, 8, 26),
    D(2030, 12, 25),
    D(2030, 12, 26),
    # 2031 (spill-over)
    D(2031, 1, 1),
}


def easter_sunday(year: int) -> date:
    """The anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def rule_holidays(year: int) -> set[date]:
    """The same holidays from the rules, as a cross-check of the hand-written list."""

    def monday_on_or_after(d):
        return d + timedelta(days=(7 - d.weekday()) % 7)

    def last_monday(year, month):
        d = date(year, month + 1, 1) - timedelta(days=1)
        return d - timedelta(days=d.weekday())

    new_year = date(year, 1, 1)
    out = {monday_on_or_after(new_year) if new_year.weekday() >= 5 else new_year}
    easter = easter_sunday(year)
    out |= {easter - timedelta(days=2), easter + timedelta(days=1)}
    out |= {monday_on_or_after(date(year, 5, 1)), last_monday(year, 5), last_monday(year, 8)}
    christmas_weekday = date(year, 12, 25).weekday()
    if christmas_weekday == 5:  # Saturday: both move to Monday and Tuesday
        out |= {date(year, 12, 27), date(year, 12, 28)}
    elif christmas_weekday == 6:  # Sunday: Boxing Day Monday, Christmas substitute Tuesday
        out |= {date(year, 12, 26), date(year, 12, 27)}
    elif christmas_weekday == 4:  # Friday: Boxing Day Saturday moves to Monday
        out |= {date(year, 12, 25), date(year, 12, 28)}
    else:
        out |= {date(year, 12, 25), date(year, 12, 26)}
    return out


def month_add(start: date, months: int) -> date:
    """Same day ``months`` later; when that month is too short, step back to its last day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = index // 12, index % 12 + 1
    day = start.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def working(day: date) -> date:
    while day.isoweekday() in (6, 7) or day in BANK_HOLIDAYS:
        day += timedelta(days=1)
    return day


def expected_statutory(start, pause=0, months=1):
    return working(month_add(start, months) + timedelta(days=pause))


def expected_due(start, pause=0, extension=0):
    if extension:
        return expected_statutory(start, pause, 1 + extension)
    return min(expected_statutory(start, pause), start + timedelta(days=30 + pause))


def every_day(year):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


# --- the holiday calendar itself -----------------------------------------------------------------


@pytest.mark.parametrize("year", range(2025, 2031))
def test_hand_written_bank_holidays_match_the_rules(year):
    listed = {d for d in BANK_HOLIDAYS if d.year == year}
    assert listed == rule_holidays(year)
    assert len(listed) == 8


@pytest.mark.parametrize("year", range(2025, 2031))
def test_the_app_uses_the_england_and_wales_bank_holidays(year):
    weekday_holidays = {d for d in deadlines.bank_holidays(year) if d.weekday() < 5}
    assert weekday_holidays == {d for d in BANK_HOLIDAYS if d.year == year}


def test_scotland_only_days_are_not_holidays_here():
    assert deadlines.is_working_day(D(2026, 1, 2))  # 2 January: Scotland only
    assert deadlines.is_working_day(D(2026, 8, 3))  # first Monday of August: Scotland only
    assert deadlines.is_working_day(D(2026, 3, 17))  # St Patrick's Day: Northern Ireland only
    assert not deadlines.is_working_day(D(2026, 4, 6))  # Easter Monday: England and Wales


# --- every start day of 2025–2030 ----------------------------------------------------------------


@pytest.mark.parametrize("year", range(2025, 2031))
def test_every_start_day_without_and_with_a_pause(year):
    wrong = []
    for start in every_day(year):
        pause = start.toordinal() % 19 + 1  # 1..19 paused days, varying through the year
        checks = [
            ("statutory", deadlines.statutory_date(start), expected_statutory(start)),
            ("due", deadlines.due_date(start), expected_due(start)),
            ("due paused", deadlines.due_date(start, paused_days=pause), expected_due(start, pause)),
        ]
        wrong += [(start, label, got, want) for label, got, want in checks if got != want]
    assert wrong == []


@pytest.mark.parametrize("year", range(2025, 2031))
def test_extensions_for_a_sample_of_start_days(year):
    wrong = []
    for start in every_day(year):
        if start.toordinal() % 3:
            continue  # every third day, so each weekday and month end is still covered
        pause = start.toordinal() % 8
        for months in (1, 2):
            got = deadlines.due_date(start, paused_days=pause, extension_months=months)
            want = expected_due(start, pause, months)
            if got != want:
                wrong.append((start, pause, months, got, want))
            if got <= deadlines.due_date(start, paused_days=pause):
                wrong.append((start, pause, months, "not later than the first deadline"))
    assert wrong == []


# --- hand-picked cases, each with its reason ----------------------------------------------------

CASES = [
    # (start, paused days, extension months, due, why)
    (
        D(2025, 1, 31),
        0,
        0,
        D(2025, 2, 28),
        "no 31 February: statutory is the month's last day, Fri 28 Feb; 30 days would be 2 Mar",
    ),
    (
        D(2025, 2, 2),
        0,
        0,
        D(2025, 3, 3),
        "statutory 2 Mar is a Sunday, so Monday 3 Mar; still earlier than 30 days (4 Mar)",
    ),
    (
        D(2027, 2, 28),
        0,
        0,
        D(2027, 3, 30),
        "statutory 28 Mar 2027 is Easter Sunday and 29 Mar Easter Monday: Tuesday 30 Mar",
    ),
    (
        D(2028, 1, 31),
        0,
        0,
        D(2028, 2, 29),
        "2028 is a leap year: 29 February exists and is a Tuesday; 30 days is 1 Mar",
    ),
    (
        D(2028, 2, 29),
        0,
        0,
        D(2028, 3, 29),
        "from the leap day itself: 29 Mar (Wed) is earlier than 30 days (30 Mar)",
    ),
    (
        D(2027, 1, 29),
        0,
        0,
        D(2027, 2, 28),
        "statutory 28 Feb 2027 is a Sunday and moves to 1 Mar, so the notice's 30 days (Sun 28 Feb, "
        "never moved) is earlier",
    ),
    (
        D(2025, 5, 5),
        0,
        0,
        D(2025, 6, 4),
        "a 31-day month: 30 days (4 Jun) comes before the same date next month (5 Jun)",
    ),
    (
        D(2026, 8, 31),
        0,
        0,
        D(2026, 9, 30),
        "the clock starts on the day the request arrives, even a bank holiday",
    ),
    (
        D(2026, 2, 2),
        5,
        0,
        D(2026, 3, 9),
        "a 5-day pause: 2 Mar + 5 = Sat 7 Mar, moved to Mon 9 Mar; 30 + 5 days is also 9 Mar",
    ),
    (
        D(2026, 10, 26),
        0,
        1,
        D(2026, 12, 29),
        "extended to 26 Dec 2026 (Sat, Boxing Day): Sunday, then Monday 28 the substitute: Tue 29",
    ),
    (
        D(2027, 9, 25),
        0,
        2,
        D(2027, 12, 29),
        "extended to Christmas Day 2027 (Sat): both substitutes Mon 27 and Tue 28, so Wed 29",
    ),
    (
        D(2027, 11, 1),
        0,
        1,
        D(2028, 1, 4),
        "extended to 1 Jan 2028 (Sat): New Year's substitute Mon 3 Jan, so Tue 4 Jan",
    ),
    (
        D(2025, 1, 31),
        0,
        1,
        D(2025, 3, 31),
        "an extension steps from the start's day: 31 Mar, not 28 Mar carried on from February",
    ),
    (
        D(2025, 1, 31),
        0,
        2,
        D(2025, 4, 30),
        "two months' extension: April has no 31st, so its last day, Wed 30 Apr",
    ),
    (
        D(2026, 1, 3),
        0,
        2,
        D(2026, 4, 7),
        "extended to Good Friday 3 Apr 2026: then the weekend and Easter Monday, so Tue 7 Apr",
    ),
    (D(2025, 3, 5), 0, 1, D(2025, 5, 6), "extended to 5 May 2025, the early May bank holiday: Tuesday 6 May"),
    (
        D(2029, 3, 28),
        0,
        1,
        D(2029, 5, 29),
        "extended to 28 May 2029, the spring bank holiday: Tuesday 29 May",
    ),
]


@pytest.mark.parametrize("start,paused,months,due,why", CASES, ids=[f"{c[0]}+{c[1]}d+{c[2]}m" for c in CASES])
def test_hand_picked_deadlines(start, paused, months, due, why):
    assert deadlines.due_date(start, paused_days=paused, extension_months=months) == due, why
    assert expected_due(start, paused, months) == due, "the independent computation agrees"


# --- pauses around weekends and bank holidays ----------------------------------------------------
# A pause of N days moves the raw dates by N days *before* the statutory one is moved to a working
# day: the clock gains exactly the paused days, and a weekend the deadline was already moved over
# is not gained a second time.

PAUSE_CASES = [
    # (start, paused on, resumed on, extension months, due, why)
    (
        D(2026, 2, 2),
        D(2026, 2, 6),
        D(2026, 2, 9),
        0,
        D(2026, 3, 5),
        "paused Friday, resumed Monday: 3 days; 2 Mar + 3 = Thu 5 Mar (30 + 3 days is Sat 7 Mar)",
    ),
    (
        D(2026, 2, 2),
        D(2026, 2, 7),
        D(2026, 2, 9),
        0,
        D(2026, 3, 4),
        "paused on a Saturday, resumed Monday: 2 days, so Wed 4 Mar",
    ),
    (
        D(2026, 2, 2),
        D(2026, 2, 4),
        D(2026, 2, 8),
        0,
        D(2026, 3, 6),
        "resumed on a Sunday: 4 days; 2 Mar + 4 = Fri 6 Mar, before the notice's Sun 8 Mar",
    ),
    (
        D(2026, 2, 2),
        D(2026, 2, 2),
        D(2026, 2, 2),
        0,
        D(2026, 3, 2),
        "paused and resumed the same day: no day lost, Mon 2 Mar",
    ),
    (
        D(2026, 1, 31),
        D(2026, 2, 6),
        D(2026, 2, 7),
        0,
        D(2026, 3, 2),
        "no 31 Feb: Sat 28 Feb, moved to Mon 2 Mar anyway; a 1-day pause gives Sun 1 Mar, which "
        "the same move absorbs: still Mon 2 Mar (moving first, then adding, would say Tue 3 Mar)",
    ),
    (
        D(2026, 1, 31),
        D(2026, 2, 6),
        D(2026, 2, 9),
        0,
        D(2026, 3, 3),
        "the same start, paused over the weekend: Sat 28 Feb + 3 = Tue 3 Mar, not Mon 2 Mar + 3",
    ),
    (
        D(2025, 3, 26),
        D(2025, 3, 28),
        D(2025, 3, 31),
        1,
        D(2025, 5, 29),
        "extended to the spring bank holiday (Mon 26 May 2025, moved to Tue 27 May without the "
        "pause); paused Friday to Monday: 26 May + 3 = Thu 29 May",
    ),
    (
        D(2025, 3, 22),
        D(2025, 4, 3),
        D(2025, 4, 5),
        1,
        D(2025, 5, 27),
        "extended to Thu 22 May 2025; a 2-day pause lands on Sat 24 May: Sunday, then the spring "
        "bank holiday, so Tue 27 May",
    ),
    (
        D(2025, 10, 27),
        D(2025, 10, 31),
        D(2025, 11, 1),
        1,
        D(2025, 12, 29),
        "extended to Sat 27 Dec 2025 (after Christmas and Boxing Day), moved to Mon 29 Dec; one "
        "paused day gives Sun 28 Dec, which the move already covers: Mon 29 Dec",
    ),
    (
        D(2025, 10, 27),
        D(2025, 10, 31),
        D(2025, 11, 3),
        1,
        D(2025, 12, 30),
        "the same, paused Friday to Monday: 27 Dec + 3 = Tue 30 Dec",
    ),
    (
        D(2026, 2, 2),
        D(2026, 2, 4),
        D(2026, 2, 5),
        1,
        D(2026, 4, 7),
        "extended to Thu 2 Apr 2026; one paused day lands on Good Friday: then the weekend and "
        "Easter Monday, so Tue 7 Apr",
    ),
]


@pytest.mark.parametrize(
    "start,paused_on,resumed_on,months,due,why",
    PAUSE_CASES,
    ids=[f"{c[0]}:{c[1]}-{c[2]}+{c[3]}m" for c in PAUSE_CASES],
)
def test_a_pause_moves_the_deadline_by_its_days_before_the_working_day_move(
    start, paused_on, resumed_on, months, due, why
):
    paused = deadlines.pause_days(paused_on, resumed_on)
    assert paused == (resumed_on - paused_on).days
    assert deadlines.due_date(start, paused_days=paused, extension_months=months) == due, why
    assert expected_due(start, paused, months) == due, "the independent computation agrees"
    assert due.weekday() < 5 and due not in BANK_HOLIDAYS, "each is a statutory date"


def test_statutory_date_on_easter_monday_moves_to_tuesday():
    # 21 Mar 2025 + one month = Easter Monday 21 Apr 2025.
    assert deadlines.statutory_date(D(2025, 3, 21)) == D(2025, 4, 22)
    # ...but the notice's 30 days (Sunday 20 Apr) comes first and is the deadline.
    assert deadlines.due_date(D(2025, 3, 21)) == D(2025, 4, 20)


def test_the_start_is_the_identity_check_when_there_was_one():
    assert deadlines.clock_start(D(2025, 2, 1)) == D(2025, 2, 1)
    start = deadlines.clock_start(D(2025, 2, 1), D(2025, 2, 10))
    assert start == D(2025, 2, 10)
    assert deadlines.due_date(start) == D(2025, 3, 10)  # Monday 10 Mar, before 30 days (12 Mar)


def test_an_extension_is_possible_until_the_first_deadline_and_not_after():
    start = D(2025, 2, 2)  # first deadline Monday 3 Mar 2025
    assert deadlines.can_extend(start, D(2025, 3, 3))
    assert not deadlines.can_extend(start, D(2025, 3, 4))
    # One paused day only uses up the weekend move (2 Mar + 1 = Monday 3 Mar); two move it on.
    assert not deadlines.can_extend(start, D(2025, 3, 4), paused_days=1)
    assert deadlines.can_extend(start, D(2025, 3, 4), paused_days=2)


def test_an_extension_beyond_two_months_or_a_negative_pause_is_refused():
    with pytest.raises(ValueError):
        deadlines.due_date(D(2025, 1, 1), extension_months=3)
    with pytest.raises(ValueError):
        deadlines.due_date(D(2025, 1, 1), paused_days=-1)
    with pytest.raises(ValueError):
        deadlines.pause_days(D(2025, 1, 10), D(2025, 1, 9))
    assert deadlines.pause_days(D(2025, 1, 10), D(2025, 1, 10)) == 0
    assert deadlines.pause_days(D(2025, 1, 28), D(2025, 2, 3)) == 6


@pytest.mark.parametrize(
    "due,today,text,left",
    [
        (D(2025, 3, 3), D(2025, 3, 3), "Due today", 0),
        (D(2025, 3, 3), D(2025, 3, 2), "1 day left", 1),
        (D(2025, 3, 3), D(2025, 2, 28), "3 days left", 3),
        (D(2025, 3, 3), D(2025, 3, 4), "Overdue by 1 day", -1),
        (D(2025, 3, 3), D(2025, 3, 13), "Overdue by 10 days", -10),
    ],
)
def test_days_left_for_the_dashboard(due, today, text, left):
    assert deadlines.days_left(due, today) == left
    assert deadlines.describe_due(due, today) == text
