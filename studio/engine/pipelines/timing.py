"""When the minutely run acts: a daily schedule's slot, the produce-ahead window, the publish moment.

Pure functions of the time they are given (the worker passes the clock; tests pass their own),
so "at 09:00 tomorrow" is a value a test can hand in.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from studio.engine.errors import InvalidInput

# A post whose time passed longer ago than this is left to the user: a worker that was off for
# days does not make and post last week's posts when it comes back.
LATE_LIMIT = timedelta(hours=24)


def local(now: datetime | None = None) -> datetime:
    """``now`` (or the clock) as an aware local time: schedules are set in the user's hours."""
    return (now or datetime.now()).astimezone()


def parse_at(raw: str) -> time:
    """'HH:MM' (24-hour) as a time of day; one readable line when it is not."""
    text = raw.strip()
    try:
        at = time.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or len(text) != 5 or at.second or at.tzinfo is not None:
        raise InvalidInput(f"'{raw}' is not a time of day; write HH:MM, e.g. 09:00 or 18:30.")
    return at


def slot_due(at: time, last_slot: date | None, now: datetime) -> date | None:
    """Today's slot when its time has come and it has not run yet (a worker that was off at the
    time catches up later that day); otherwise None."""
    today = now.date()
    if now.time() < at or (last_slot is not None and last_slot >= today):
        return None
    return today


def produce_window(now: datetime, ahead_hours: float) -> tuple[datetime, datetime]:
    """Approved posts timed in this window are made now."""
    return now - LATE_LIMIT, now + timedelta(hours=ahead_hours)


def publish_window(now: datetime) -> tuple[datetime, datetime]:
    """Finished posts timed in this window go out now."""
    return now - LATE_LIMIT, now

