"""Cell text <-> domain values for the editor tables.

Each parser takes what the coordinator typed and returns the value for a
dataclass field, or raises ``ValueError`` (``TimeFormatError`` is one) whose
message says what was expected. The table models show that message at the
cell and keep the old value.
"""

from __future__ import annotations

import re
from datetime import date

from scheduler.io.reader import EMPTY_ID, parse_patient_cohort, required_text
from scheduler.io.reader import parse_room_kind as parse_kind_of_room
from scheduler.io.values import MAX_COUNT, MAX_HOURS, MAX_MINUTES, MAX_WEIGHT, parse_count, parse_number
from scheduler.io.values import parse_requirements as _read_requirements
from scheduler.model import DAY_NAMES, Availability, Cohort, HoursBasis, Mode, Requirement, RoomKind
from scheduler.timegrid import format_availability, format_days, format_time, parse_availability, parse_days, parse_time

def fmt_availability(value: Availability) -> str:
    return format_availability(value)


def parse_availability_text(text: str) -> Availability:
    return parse_availability(text)


def fmt_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_int(text: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """A whole number in ``minimum..maximum``: the reader's own parser and limits."""
    if not re.fullmatch(r"\s*[+-]?\d+(\.0*)?\s*", text):
        raise ValueError(f"'{text}' is not a whole number; expected e.g. 3")
    return parse_count(text.strip(), minimum, maximum)


def parse_opt_int(text: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int | None:
    return None if not text.strip() else parse_int(text, minimum=minimum, maximum=maximum)


def parse_minutes(text: str, *, minimum: int = 0) -> int:
    """Minutes (durations, slots, gaps): at most a day, as the reader allows."""
    return parse_int(text, minimum=minimum, maximum=MAX_MINUTES)


def parse_float(text: str, *, minimum: float = 0.0, maximum: float = MAX_HOURS) -> float:
    """A finite number in ``minimum..maximum`` (hours by default): the reader's own parser and limits.

    nan, inf and 1e308 are refused with the reader's message, never stored.
    """
    return parse_number(text.strip(), minimum, maximum)


def parse_opt_float(text: str, *, minimum: float = 0.0, maximum: float = MAX_HOURS) -> float | None:
    return None if not text.strip() else parse_float(text, minimum=minimum, maximum=maximum)


def parse_weight(text: str) -> float:
    """A soft-goal weight: finite, 0 to the reader's MAX_WEIGHT."""
    return parse_float(text, maximum=MAX_WEIGHT)


def fmt_set(values) -> str:
    return "; ".join(sorted(values))


def parse_set(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in re.split(r"[;,]", text) if p.strip())


def fmt_days(days: tuple[int, ...]) -> str:
    return format_days(days) if days else ""


def parse_days_text(text: str) -> tuple[int, ...]:
    return () if not text.strip() else parse_days(text)


def fmt_bool(value: bool) -> str:
    return "yes" if value else "no"


def parse_bool(text: str) -> bool:
    key = text.strip().lower()
    if key in ("yes", "y", "true", "1"):
        return True
    if key in ("no", "n", "false", "0", ""):
        return False
    raise ValueError(f"'{text}' is not yes or no")


def enum_parser(enum_type):
    choices = [e.value for e in enum_type]

    def parse(text: str):
        try:
            return enum_type(text.strip().lower())
        except ValueError:
            raise ValueError(f"'{text}' is not one of: {', '.join(choices)}") from None

    parse.choices = tuple(choices)  # type: ignore[attr-defined]
    return parse


parse_mode = enum_parser(Mode)
parse_room_kind = enum_parser(RoomKind)  # an activity's room: group, office or none
parse_cohort = enum_parser(Cohort)  # an activity's cohort: adult, adolescent or any
parse_hours_basis = enum_parser(HoursBasis)
# A room's own kind (group or office) and a patient's cohort (adult or adolescent) are narrower: they
# are the reader's parsers, parse_kind_of_room and parse_patient_cohort, imported above.


def required(parse):
    """``parse`` for a column the importer requires: an empty cell is refused in the importer's words.

    The importer refuses an empty required cell ("the cell is empty; a value is required"), so the
    app refuses it too, before ``parse`` could word it differently or store an empty value.
    """

    def parse_required(text: str):
        required_text(text)
        return parse(text)

    return parse_required


def parse_required_text(text: str) -> str:
    """Free text the importer requires (an activity's skill): stripped, never empty."""
    return required_text(text)


def fmt_requirements(reqs: tuple[Requirement, ...]) -> str:
    parts = []
    for r in reqs:
        count = str(r.min_count) if r.min_count == r.max_count else f"{r.min_count}-{r.max_count}"
        parts.append(f"{r.activity_id}={count}")
    return "; ".join(parts)


def parse_requirements(text: str) -> tuple[Requirement, ...]:
    """``"PROC=3; CBT=2-3"`` -> requirements; the reader's own parser (activity ids are checked by the model)."""
    return _read_requirements(text)


_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


def parse_id(text: str) -> str:
    text = required_text(text, EMPTY_ID)  # the importer's words for an empty id
    if not _ID.match(text):
        raise ValueError(f"'{text}' is not an id; use letters, digits, '-', '_' or '.' without spaces")
    return text


def parse_text(text: str) -> str:
    return text.strip()


def parse_opt_text(text: str) -> str | None:
    return text.strip() or None


def fmt_time(minutes: int) -> str:
    return format_time(minutes)


def parse_time_text(text: str) -> int:
    return parse_time(text)


def fmt_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def parse_date(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date; expected YYYY-MM-DD, e.g. 2026-11-30") from None


def day_name(day: int) -> str:
    return DAY_NAMES[day]
