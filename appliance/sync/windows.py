"""Sync windows in the box's local time, as ``[sync] windows`` gives them:
``02:00-04:00, 13:00-13:30`` (a window may run past midnight: ``23:30-01:00``)."""

import datetime
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


class WindowError(ValueError):
    """A windows setting that cannot be read."""


def parse_windows(text):
    """[(start, end)] as datetime.time pairs; an empty setting means no windows."""
    windows = []
    for part in filter(str.strip, text.split(",")):
        match = _WINDOW.fullmatch(part)
        if not match:
            raise WindowError(f"sync window {part.strip()!r} is not like 02:00-04:00")
        try:
            start = datetime.time(int(match[1]), int(match[2]))
            end = datetime.time(int(match[3]), int(match[4]))
        except ValueError as error:
            raise WindowError(f"sync window {part.strip()!r}: {error}") from None
        if start == end:
            raise WindowError(f"sync window {part.strip()!r} is empty")
        windows.append((start, end))
    return windows


def zone(name):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"unknown time zone {name!r} in [box] timezone") from None


def next_window(windows, now):
    """(start, end) aware datetimes of the window open at ``now`` (aware) or the next one."""
    candidates = []
    for day in (-1, 0, 1):
        date = now.date() + datetime.timedelta(days=day)
        for start, end in windows:
            opens = datetime.datetime.combine(date, start, now.tzinfo)
            closes = datetime.datetime.combine(date, end, now.tzinfo)
            if closes <= opens:
                closes += datetime.timedelta(days=1)
            if closes > now:
                candidates.append((max(opens, now), closes))
    return min(candidates) if candidates else None
