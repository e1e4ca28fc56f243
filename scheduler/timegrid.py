"""Times, days and availability strings <-> minutes, windows and slots.

The one place that knows how ``Mon-Fri 09:00-13:00; Sat 10:00-12:00`` is spelled
and how minutes map onto the program's slot grid.
"""

from __future__ import annotations

import re

from scheduler.model import DAY_NAMES, Availability, Program, Window

_DAY_INDEX = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
SATURDAY = 5
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_ENTRY = re.compile(r"^\s*(?P<days>[A-Za-z][A-Za-z ,\-]*?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


class TimeFormatError(ValueError):
    """A time, day list or availability string that cannot be read; the message says what was expected."""


def parse_time(text: str) -> int:
    """``"09:30"`` -> 570 minutes since midnight. ``24:00`` is allowed as an end of day."""
    m = _TIME.match(str(text))
    if not m:
        raise TimeFormatError(f"'{text}' is not a time; expected HH:MM, e.g. 09:30")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise TimeFormatError(f"'{text}' is not a time of day; expected 00:00 to 24:00")
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_day(text: str) -> int:
    word = text.strip()
    key = word.lower()[:3]
    # One word of letters: "Mon Tue" read as Monday alone would lose Tuesday without a word.
    if key not in _DAY_INDEX or len(word) < 3 or not word.isalpha():
        raise TimeFormatError(f"'{text.strip()}' is not a day; expected one of {', '.join(DAY_NAMES)}")
    return _DAY_INDEX[key]


def parse_days(text: str) -> tuple[int, ...]:
    """``"Mon-Fri"``, ``"Mon,Wed,Fri"``, ``"Mon Wed Fri"``, ``"Mon - Wed, Fri"`` or ``"Sun-Thu"`` (a range from
    Saturday or Sunday runs on into the week) -> sorted day indices, no repeats."""
    days: set[int] = set()
    parts = [p for p in re.split(r"[,;\s]+", re.sub(r"\s*-\s*", "-", str(text).strip())) if p.strip()]
    if not parts:
        raise TimeFormatError(f"'{text}' names no day; expected e.g. Mon-Fri or Mon,Wed,Fri")
    for part in parts:
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = parse_day(first), parse_day(last)
            if b < a and a < SATURDAY:
                raise TimeFormatError(f"'{part.strip()}' runs backwards; write the earlier day first, e.g. Mon-Fri")
            # A range from the weekend runs on through it into the week (Sun-Thu, Sat-Wed).
            days.update(range(a, b + 1) if a <= b else (*range(a, 7), *range(0, b + 1)))
        else:
            days.add(parse_day(part))
    return tuple(sorted(days))


def format_days(days: tuple[int, ...] | list[int]) -> str:
    """Day indices -> the shortest spelling: ranges of three or more days are written ``Mon-Wed``."""
    days = sorted(set(days))
    chunks: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        if j - i >= 2:
            chunks.append(f"{DAY_NAMES[days[i]]}-{DAY_NAMES[days[j]]}")
        else:
            chunks.extend(DAY_NAMES[d] for d in days[i : j + 1])
        i = j + 1
    return ",".join(chunks)


def merge_windows(windows: list[Window] | tuple[Window, ...]) -> tuple[Window, ...]:
    """Sort windows and join those that overlap or touch on the same day."""
    merged: list[Window] = []
    for w in sorted(windows):
        if merged and merged[-1].day == w.day and w.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Window(w.day, last.start, max(last.end, w.end))
        else:
            merged.append(w)
    return tuple(merged)


def parse_availability(text: str | None) -> Availability:
    """``"Mon-Fri 09:00-13:00; Sat 10:00-12:00"`` -> Availability. Empty -> unrestricted."""
    if text is None:
        return Availability()
    text = str(text).strip()
    if not text:
        return Availability()
    windows: list[Window] = []
    for entry in text.split(";"):
        if not entry.strip():
            continue
        m = _ENTRY.match(entry)
        if not m:
            raise TimeFormatError(
                f"'{entry.strip()}' is not an availability entry; expected DAYS HH:MM-HH:MM, e.g. Mon-Fri 09:00-13:00"
            )
        start, end = parse_time(m.group("start")), parse_time(m.group("end"))
        if end <= start:
            raise TimeFormatError(f"'{entry.strip()}' ends before it starts")
        for day in parse_days(m.group("days")):
            windows.append(Window(day, start, end))
    return Availability(merge_windows(windows))


def format_availability(availability: Availability) -> str:
    """Availability -> string; days sharing the same windows are written together (``Mon-Fri 09:00-13:00``)."""
    if availability.unrestricted:
        return ""
    by_span: dict[tuple[int, int], list[int]] = {}
    for w in availability.windows:
        by_span.setdefault((w.start, w.end), []).append(w.day)
    entries = [
        (min(days), start, f"{format_days(days)} {format_time(start)}-{format_time(end)}")
        for (start, end), days in by_span.items()
    ]
    return "; ".join(text for _, _, text in sorted(entries))


def open_windows(availability: Availability, program: Program, day: int) -> tuple[Window, ...]:
    """Windows on ``day`` clipped to the program's opening hours; unrestricted means open-close."""
    if day not in program.days:
        return ()
    if availability.unrestricted:
        return (Window(day, program.open, program.close),)
    out = []
    for w in availability.on_day(day):
        start, end = max(w.start, program.open), min(w.end, program.close)
        if start < end:
            out.append(Window(day, start, end))
    return tuple(out)


def covers(availability: Availability, program: Program, day: int, start: int, end: int) -> bool:
    """True when [start, end) on ``day`` lies inside one window (and inside opening hours)."""
    return any(w.start <= start and end <= w.end for w in open_windows(availability, program, day))


def open_slots(availability: Availability, program: Program, day: int) -> frozenset[int]:
    """Slot indices (0 = opening time) on ``day`` that lie wholly inside the availability."""
    size = program.slot_minutes
    slots: set[int] = set()
    for w in open_windows(availability, program, day):
        first = -(-(w.start - program.open) // size)
        last = (w.end - program.open) // size
        slots.update(range(first, last))
    return frozenset(slots)


def slot_of(program: Program, minute: int) -> int:
    return (minute - program.open) // program.slot_minutes


def minute_of(program: Program, slot: int) -> int:
    return program.open + slot * program.slot_minutes


def on_grid(program: Program, minute: int) -> bool:
    return (minute - program.open) % program.slot_minutes == 0
