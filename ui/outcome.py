"""A solve's outcome as the window shows it: the solver's result plus the validator's review."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from scheduler.model import Scenario, Timetable, scenario_without
from scheduler.validate import patient_compliance, validate
from solver.result import SolveResult, SolveStatus, Term, WaitlistEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolveOutcome:
    result: SolveResult
    scenario: Scenario  # the scenario that was solved
    violations: tuple = ()  # scheduler.validate.Violation
    compliance: tuple = ()  # scheduler.validate.PatientCompliance
    name: str = ""  # the name it is saved under in the store
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def timetable(self) -> Timetable | None:
        return self.result.timetable


def review(scenario: Scenario, result: SolveResult, name: str = "") -> SolveOutcome:
    """Check the result's timetable with the independent validator (hard rules, compliance)."""
    if result.timetable is None:
        return SolveOutcome(result, scenario, name=name)
    timetable = result.timetable.numbered(scenario.program.first_day)
    if timetable != result.timetable:
        result = replace(result, timetable=timetable)
    # The scenario a best-effort timetable answers: a waitlisted patient has no sessions by design, and a
    # pinned session that holds them is not kept (whole or not at all); neither is a broken rule.
    checked = scenario_without(scenario, {w.patient_id for w in result.waitlist})
    violations = tuple(validate(checked, timetable))
    compliance = tuple(patient_compliance(checked, timetable))
    if violations:
        log.warning("timetable %s breaks %d hard rule(s): %s", name or "(new)", len(violations),
                    sorted({v.rule for v in violations}))
    return SolveOutcome(result, scenario, violations, compliance, name)


def result_from_summary(summary: dict | None, timetable: Timetable | None) -> SolveResult:
    """Rebuild a SolveResult from a stored summary (the summary.json shape) and its timetable."""
    summary = summary or {}
    try:
        status = SolveStatus(summary.get("status", "unknown"))
    except ValueError:
        status = SolveStatus.UNKNOWN
    terms = tuple(
        Term(t.get("code", ""), t.get("name", ""), float(t.get("weight", 0) or 0), float(t.get("value", 0) or 0))
        for t in summary.get("terms", ())
    )
    waitlist = tuple(WaitlistEntry(w.get("patient_id", ""), w.get("reason", "")) for w in summary.get("waitlist", ()))
    return SolveResult(
        status=status,
        timetable=timetable,
        objective=summary.get("objective"),
        bound=summary.get("bound"),
        seconds=float(summary.get("seconds") or 0.0),
        terms=terms,
        first_solution_seconds=summary.get("first_solution_seconds"),
        message=summary.get("message", ""),
        explanations=tuple(summary.get("explanations", ())),
        waitlist=waitlist,
        dropped_pins=tuple(summary.get("dropped_pins", ())),
    )


def status_words(result: SolveResult | None) -> tuple[str, str]:
    """(headline, detail) in a coordinator's words: "Optimal", "Within 2.1% of optimal", ..."""
    headline, detail = _status_words(result)
    if result is not None and result.waitlist:
        detail += f" {len(result.waitlist)} patient(s) are on the waitlist."
    if result is not None and result.dropped_pins:
        detail += (f" {len(result.dropped_pins)} pinned session(s) could not be kept: their patients are on the "
                   "waitlist.")
    return headline, detail


def _status_words(result: SolveResult | None) -> tuple[str, str]:
    if result is None:
        return "No timetable yet", "Press Solve (F5) to make the optimal timetable for this week."
    has = result.timetable is not None
    seconds = f"{result.seconds:.1f} s"
    status = result.status
    if status == SolveStatus.OPTIMAL:
        return "Optimal", f"Proven optimal in {seconds}: no timetable scores better."
    if status == SolveStatus.FEASIBLE:
        gap = result.gap
        if gap is None or gap >= 0.995:
            return "A valid timetable", (f"Stopped at the time limit ({seconds}) before the bound showed how close to "
                                         "optimal it is; a longer time limit tightens it.")
        return f"Within {100 * gap:.1f}% of optimal", f"Stopped at the time limit ({seconds}); the bound proves how close it is."
    if status == SolveStatus.INFEASIBLE:
        return "No timetable exists", "The rules cannot all be met; see why below."
    if status == SolveStatus.CANCELLED:
        if has:
            return "Cancelled — best timetable found so far", f"Stopped after {seconds}."
        return "Cancelled", f"Stopped after {seconds}, before a first timetable was found."
    if status == SolveStatus.UNKNOWN:
        if has:
            return "Stopped at the time limit", f"Best timetable after {seconds}; optimality not proven."
        return "Stopped at the time limit", f"No timetable found in {seconds}; try a longer time limit."
    return "The scenario could not be solved", result.message or "The solver rejected the model."


def validity_warning(outcome: SolveOutcome | None, stale: bool = False) -> str:
    """What a coordinator must know before using the shown timetable: it breaks hard rules of the
    current clinic data, or the data changed since it was made; "" when neither."""
    if outcome is None or outcome.timetable is None:
        return ""
    if outcome.violations:
        return (f"This timetable breaks {len(outcome.violations)} hard rule(s) of the current clinic data: "
                "it must not be used. Solve again.")
    if stale:
        return "The clinic data changed since this timetable was made: solve again to update it."
    return ""


def export_summary(outcome: SolveOutcome) -> dict:
    """summary.json for an export: the solver's summary, marked invalid (with the violations) when
    the timetable breaks hard rules of the scenario it is checked against."""
    summary = outcome.result.summary()
    if outcome.violations:
        summary["violations"] = [{"rule": v.rule, "message": v.message} for v in outcome.violations]
        summary["status"] = SolveStatus.INVALID.value
        note = (f"The timetable breaks {len(outcome.violations)} hard rule(s) of the clinic data it was "
                "exported with: it must not be used.")
        summary["message"] = f"{note} {summary.get('message') or ''}".strip()
    return summary
