"""What a solve returns: a value, never an exception, for every outcome."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from scheduler.model import Timetable


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    INVALID = "invalid"

    @property
    def has_timetable_possible(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE, SolveStatus.CANCELLED, SolveStatus.UNKNOWN)


@dataclass(frozen=True)
class SolveParams:
    """Explicit, reproducible solver settings. The time limit is always set."""

    time_limit: float = 60.0
    workers: int = 2
    seed: int = 0
    relative_gap: float = 0.0
    best_effort: bool = False
    log_search: bool = False


@dataclass(frozen=True)
class Term:
    """One soft goal's contribution: objective = sum(weight * value)."""

    code: str
    name: str
    weight: float
    value: float

    @property
    def cost(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True)
class Progress:
    """One improving solution, as handed to ``on_progress``.

    ``timetable`` is the solution itself when it is already a timetable (the template, the fit,
    an improvement round, the polish: a live view can show it); None for the whole-week search's
    own solutions (turning each into sessions would slow the search) and for a tighter bound alone.
    """

    objective: float
    bound: float
    seconds: float
    timetable: Timetable | None = field(default=None, compare=False, repr=False)
    # Patients this solution leaves out (best effort: bound and gap mean nothing until 0); None: not known.
    unplaced: int | None = None

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)


@dataclass(frozen=True)
class WaitlistEntry:
    patient_id: str
    reason: str


@dataclass(frozen=True)
class SolveResult:
    status: SolveStatus
    timetable: Timetable | None = None
    objective: float | None = None
    bound: float | None = None
    seconds: float = 0.0
    terms: tuple[Term, ...] = ()
    first_solution_seconds: float | None = None
    message: str = ""
    explanations: tuple[str, ...] = ()
    waitlist: tuple[WaitlistEntry, ...] = ()
    # Best effort: last week's pinned sessions not kept because their patients are on the waitlist
    # (a pinned session is kept whole or not at all), each as "S003 (Mon 09:00)".
    dropped_pins: tuple[str, ...] = ()
    history: tuple[Progress, ...] = field(default=(), repr=False)
    # Seconds spent building the search space and, where it is used, the whole-week CP-SAT
    # model (None when the solve stopped before building them).
    build_seconds: float | None = None

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return relative_gap(self.objective, self.bound)

    @property
    def has_timetable(self) -> bool:
        return self.timetable is not None

    def headline(self) -> str:
        """One line for the CLI and the status bar."""
        def num(x: float | None) -> str:
            return "-" if x is None else f"{x:.2f}"

        gap = self.gap
        gap_text = "-" if gap is None else f"{100 * gap:.1f}%"
        return (
            f"status={self.status.value} objective={num(self.objective)} bound={num(self.bound)} "
            f"gap={gap_text} seconds={self.seconds:.1f}"
        )

    def summary(self) -> dict:
        """The content of summary.json (SPEC section 6)."""
        gap = self.gap
        return {
            "status": self.status.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": None if gap is None else round(gap, 6),
            "seconds": round(self.seconds, 3),
            "first_solution_seconds": None
            if self.first_solution_seconds is None
            else round(self.first_solution_seconds, 3),
            "terms": [
                {"code": t.code, "name": t.name, "weight": t.weight, "value": t.value} for t in self.terms
            ],
            "message": self.message,
            "explanations": list(self.explanations),
            "waitlist": [{"patient_id": w.patient_id, "reason": w.reason} for w in self.waitlist],
            "dropped_pins": list(self.dropped_pins),
        }


def relative_gap(objective: float, bound: float) -> float:
    """(objective - bound) / objective, 0 when both are 0; objectives here are never negative."""
    if math.isclose(objective, bound, abs_tol=1e-9):
        return 0.0
    if objective <= 0:
        return 1.0
    return max(0.0, (objective - bound) / abs(objective))
