"""Calendar arithmetic for the screening rules (screening specification §2)."""

from __future__ import annotations

import calendar
import datetime


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day number `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
    # date() raises ValueError for years outside 1..9999, which callers treat as unbounded.
    return datetime.date(year, month, min(day.day, last))


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same date `years` later; 29 February becomes 1 March in a non-leap year."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 3, 1)
    return datetime.date(year, day.month, day.day)


def age_on(birth: datetime.date, on: datetime.date) -> int:
    """Age in completed years on a day; a 29 February birthday falls on 1 March in other years."""
    years = on.year - birth.year
    if add_years(birth, years) > on:
        years -= 1
    return years


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a month."""
    return datetime.date(year, month, 1), datetime.date(
        year, month, calendar.monthrange(year, month)[1]
    )
