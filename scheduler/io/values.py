"""Cell values: the text of one cell parsed as a count, number, yes/no, choice, date, time, day or list.

Each parser raises ValueError with a message the coordinator can act on (the reader pins it to
the cell); the few phrases that several messages share are here too.
"""

from __future__ import annotations

import math
import re
from datetime import date
from enum import StrEnum

from scheduler import timegrid
from scheduler.model import DAY_NAMES, Program, Requirement

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)} | {n: i for i, n in enumerate(_FULL_DAY_NAMES)}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_CLOCK_SECONDS = re.compile(r"^(\d{1,2}:\d{2}):00(\.0+)?$")
_REQUIREMENT = re.compile(r"^\s*(?P<id>[^=\s]+)\s*=\s*(?P<low>\d+)\s*(?:-\s*(?P<high>\d+)\s*)?$")

# Upper bounds of numbers read (F1-F3 in docs/reliability.md): far beyond any clinic, well inside
# the store's 32-bit integers and the solver's 64-bit arithmetic.
MAX_COUNT = 10_000  # sizes, capacities, staff counts, days, requirement counts
MAX_MINUTES = 24 * 60  # durations, slot length, gaps
MAX_HOURS = 24 * 7  # hour limits (a day's or a week's)
MAX_WEIGHT = 1_000_000  # soft-goal weights


# --------------------------------------------------------------------------- values


def parse_count(text: str, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """``"3"`` (also ``"3.0"`` from Excel) -> 3; at least ``minimum``, at most ``maximum``."""
    if not _NUMBER.match(text.replace(",", ".")):  # not "expected e.g. 3 or 3.5": 3.5 is no count either
        raise ValueError(f"'{text}' is not a number; expected a whole number, e.g. 3")
    value = parse_number(text, minimum, maximum)
    if value != int(value):
        raise ValueError(f"'{text}' is not a whole number; expected e.g. 3")
    return int(value)


def parse_number(text: str, minimum: float = 0, maximum: float = MAX_HOURS) -> float:
    """``"3.5"`` or ``"3,5"`` -> 3.5; finite, at least ``minimum``, at most ``maximum``."""
    if re.fullmatch(r"\d+,\d{3}", text):
        raise ValueError(f"'{text}' is ambiguous (a decimal comma or a thousands separator?); write e.g. 1000 or 1.5")
    normal = text.replace(",", ".") if "." not in text and text.count(",") == 1 else text
    if not _NUMBER.match(normal):
        raise ValueError(f"'{text}' is not a number; expected e.g. 3 or 3.5")
    value = float(normal)
    if value < minimum:
        if minimum == 0:
            raise ValueError(f"'{text}' is negative; expected 0 or more")
        raise ValueError(f"'{text}' is too small; expected {minimum:g} or more")
    if not math.isfinite(value) or value > maximum:
        raise ValueError(f"'{_shortened(text)}' is too large; expected at most {maximum:g}")
    return value


def _shortened(text: str) -> str:
    """A long cell cut for a message (the error's value still carries it whole)."""
    return text if len(text) <= 20 else f"{text[:8]}…{text[-8:]} ({len(text)} characters)"


def parse_bool(text: str) -> bool:
    """yes/no, true/false, y/n, 1/0 in any case."""
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"'{text}' is not yes or no; expected yes, no, true, false, y, n, 1 or 0")


def parse_choice(text: str, enum: type[StrEnum], noun: str, allowed: tuple[StrEnum, ...] | None = None) -> StrEnum:
    """A case-insensitive enum value among ``allowed`` (default: all); ``noun`` carries its article."""
    allowed = allowed or tuple(enum)
    for member in allowed:
        if text.strip().lower() == member.value:
            return member
    names = [m.value for m in allowed]
    listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    raise ValueError(f"'{text}' is not {noun}; expected {listed}")


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` (an Excel date cell's ``00:00:00`` time is tolerated)."""
    head, _, rest = text.strip().replace("T", " ").partition(" ")
    try:
        if rest.strip("0: ") or len(head) != 10:
            raise ValueError
        return date.fromisoformat(head)
    except ValueError:
        raise ValueError(f"'{text}' is not a date; expected YYYY-MM-DD, e.g. 2026-11-30") from None


def parse_clock(text: str) -> int:
    """``HH:MM`` -> minutes; an Excel time cell's ``:00`` seconds are tolerated."""
    m = _CLOCK_SECONDS.match(text.strip())
    return timegrid.parse_time(m.group(1) if m else text)


def parse_day_name(text: str) -> int:
    """One day, ``Mon`` or ``Monday`` in any case -> its index."""
    key = text.strip().lower()
    if key not in _DAY_WORDS:
        raise ValueError(f"'{text}' is not a day; expected one of {', '.join(DAY_NAMES)}")
    return _DAY_WORDS[key]


def parse_items(text: str) -> tuple[str, ...]:
    """``"a; b,c"`` -> ("a", "b", "c"): ``;`` separated (``,`` tolerated), blanks dropped."""
    return tuple(item.strip() for item in re.split(r"[;,]", text) if item.strip())


def parse_requirements(text: str) -> tuple[Requirement, ...]:
    """``"PROC=3; CBT=2-3"`` -> requirements in the order written; each activity once."""
    out: list[Requirement] = []
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        m = _REQUIREMENT.match(entry)
        if not m:
            hint = " (separate requirements with ';')" if "," in entry else ""
            expected = "expected ACTIVITY=COUNT or ACTIVITY=MIN-MAX, e.g. PROC=3; CBT=2-3"
            raise ValueError(f"'{entry}' is not a requirement{hint}; {expected}")
        low = parse_count(m.group("low"))
        high = parse_count(m.group("high")) if m.group("high") is not None else low
        if low > high:
            raise ValueError(f"'{entry}': the minimum {low} is more than the maximum {high}")
        if any(r.activity_id == m.group("id") for r in out):
            raise ValueError(f"'{m.group('id')}' is named twice; give each activity once")
        out.append(Requirement(m.group("id"), low, high))
    return tuple(out)


def _weekday(day: int) -> str:
    """0 -> 'Monday' (for messages)."""
    return _FULL_DAY_NAMES[day].capitalize()


def _days_message(program: Program) -> str:
    return f"the program runs only {len(program.days)} days a week ({timegrid.format_days(program.days)})"


def _compact(value: float) -> str:
    """3.0 -> '3', 3.5 -> '3.5' (for messages)."""
    return f"{value:g}"


def _hours_text(program: Program) -> str:
    """The program's days and hours as a coordinator writes them, e.g. ``Mon-Fri 08:00-20:00``."""
    days = timegrid.format_days(program.days)
    return f"{days} {timegrid.format_time(program.open)}-{timegrid.format_time(program.close)}"
