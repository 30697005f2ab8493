"""The inbox's rules that depend on the authority: how long it gives itself to reply (in working days)
and how long it keeps a closed message. Defaults come from the environment, each authority may set its own."""

from datetime import date, timedelta

from django.conf import settings

MAX_REPLY_DAYS = 60
MAX_RETENTION_MONTHS = 120


def _own(authority, key: str):
    return (authority.settings or {}).get("inbox", {}).get(key)


def reply_days(authority) -> int:
    own = _own(authority, "reply_days")
    return int(own) if own is not None else settings.INBOX_REPLY_DAYS


def retention_months(authority) -> int:
    own = _own(authority, "retention_months")
    return int(own) if own is not None else settings.INBOX_RETENTION_MONTHS


def add_working_days(start: date, days: int) -> date:
    """`days` working days after `start`, Saturdays and Sundays skipped (public holidays are not)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def due_on(authority, received: date) -> date:
    return add_working_days(received, reply_days(authority))
