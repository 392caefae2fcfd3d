"""Working hours, for reminders: a request sent on Friday at 16:30 is not "8 hours
late" on Saturday morning. Monday to Friday, 09:00–17:00, Parliament's local time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
DAY_START, DAY_END = time(9), time(17)
MAX_DAYS = 366  # a bound on the walk; older tickets are long past any deadline


def working_hours_between(start: datetime, end: datetime, tz: ZoneInfo = LONDON) -> float:
    """Working hours from `start` to `end` (both aware); 0 if `end` is not after `start`."""
    if end <= start:
        return 0.0
    start, end = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = start.date()
    for _ in range(MAX_DAYS):
        if day > end.date():
            break
        if day.weekday() < 5:
            opens = datetime.combine(day, DAY_START, tz)
            closes = datetime.combine(day, DAY_END, tz)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total
