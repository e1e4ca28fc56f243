"""A solve's outcome as the window shows it: the solver's result plus the validator's review.

A timetable the coordinator changed by hand after its solve (``hand_edited``) stays an outcome: its
objective and terms are recounted by the validator, its bound and gap dropped (they were the
solver's proof about its own timetable), and ``SolveOutcome.hand`` says how it was edited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from scheduler.model import SOFT_GOALS, Scenario, Timetable, scenario_without
from scheduler.validate import objective, patient_compliance, soft_terms, validate
from solver.result import SolveResult, SolveStatus, Term, WaitlistEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandEdits:
    """A timetable changed by hand after its solve: the moves made, and the solve's own result in words."""

    moves: int
    solved: str  # "Optimal, objective 40.00": what the solver proved before the first move


@dataclass(frozen=True)
class SolveOutcome:
    result: SolveResult
    scenario: Scenario  # the scenario that was solved
    violations: tuple = ()  # scheduler.validate.Violation
    compliance: tuple = ()  # scheduler.validate.PatientCompliance
    name: str = ""  # the name it is saved under in the store
    extra: dict = field(default_factory=dict, compare=False)
    hand: HandEdits | None = None  # set when sessions were moved by hand since the solve

    @property
    def timetable(self) -> Timetable | None:
        return self.result.timetable


def review(scenario: Scenario, result: SolveResult, name: str = "", hand: HandEdits | None = None) -> SolveOutcome:
    """Check the result's timetable with the independent validator (hard rules, compliance)."""
    if result.timetable is None:
        return SolveOutcome(result, scenario, name=name, hand=hand)
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
    return SolveOutcome(result, scenario, violations, compliance, name, hand=hand)


def recheck(outcome: SolveOutcome, scenario: Scenario) -> SolveOutcome:
    """``outcome`` checked against ``scenario`` (the current clinic data), hand edits kept."""
    return review(scenario, outcome.result, name=outcome.name, hand=outcome.hand)


def hand_edited(outcome: SolveOutcome, scenario: Scenario, timetable: Timetable, name: str = "") -> SolveOutcome:
    """``outcome`` after one more move by hand: ``timetable`` checked against ``scenario`` (its pins
    included), its objective and terms the validator's. Status ``feasible``, bound None: a timetable
    that may keep every rule, with no proof of how good it is (the solve's proof was about its own)."""
    result = outcome.result
    hand = outcome.hand or HandEdits(0, solver_words(result))
    values = soft_terms(scenario, timetable)
    weights = scenario.program.weights
    terms = tuple(Term(code, goal, round(weights.of(goal), 2), values[goal]) for code, goal in SOFT_GOALS)
    edited = replace(result, status=SolveStatus.FEASIBLE, timetable=timetable, objective=objective(scenario, timetable),
                     bound=None, terms=terms, history=())
    return review(scenario, edited, name=name, hand=HandEdits(hand.moves + 1, hand.solved))


def solver_words(result: SolveResult) -> str:
    """The solve's result in a few words: "Optimal, objective 40.00"."""
    headline, _ = _status_words(result)
    return headline if result.objective is None else f"{headline}, objective {result.objective:.2f}"


def outcome_summary(outcome: SolveOutcome) -> dict:
    """What is saved with the timetable (the summary.json shape): the result's summary and, for a
    timetable edited by hand, ``edited_by_hand``: the moves made and the solve's own result in words, and
    status ``invalid`` when a move broke a hard rule (the saved timetables' list said "feasible" of a week
    breaking 28 rules)."""
    summary = outcome.result.summary()
    if outcome.hand is not None:
        summary["edited_by_hand"] = {"moves": outcome.hand.moves, "solved": outcome.hand.solved}
        if outcome.violations:
            summary["status"] = SolveStatus.INVALID.value
    return summary


def outcome_from_summary(scenario: Scenario, summary: dict | None, timetable: Timetable | None,
                         name: str = "") -> SolveOutcome:
    """A saved timetable and its summary, checked against ``scenario`` (hand edits read back)."""
    hand = (summary or {}).get("edited_by_hand")
    edits = None
    if isinstance(hand, dict):
        try:
            edits = HandEdits(int(hand.get("moves") or 1), str(hand.get("solved") or ""))
        except (TypeError, ValueError):
            edits = HandEdits(1, "")
    return review(scenario, result_from_summary(summary, timetable), name=name, hand=edits)


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


def status_words(result: SolveResult | None, hand: HandEdits | None = None) -> tuple[str, str]:
    """(headline, detail) in a coordinator's words: "Optimal", "Within 2.1% of optimal", "Edited by hand", ..."""
    headline, detail = _status_words(result) if hand is None else _hand_words(hand)
    if result is not None and result.waitlist:
        detail += f" {len(result.waitlist)} patient(s) are on the waitlist."
    if result is not None and result.dropped_pins:
        detail += (f" {len(result.dropped_pins)} pinned session(s) could not be kept: their patients are on the "
                   "waitlist.")
    return headline, detail


def _hand_words(hand: HandEdits) -> tuple[str, str]:
    moves = "1 move" if hand.moves == 1 else f"{hand.moves} moves"
    solved = f" (the solve's result: {hand.solved})" if hand.solved else ""
    return "Edited by hand", (f"{moves} by hand since the solve{solved}. The objective is recounted; the bound and "
                              "gap no longer apply. Moved sessions are pinned: the next solve keeps them.")


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
    if outcome.violations and outcome.hand is not None:
        return (f"This timetable, edited by hand, breaks {len(outcome.violations)} hard rule(s) of the clinic data "
                "(the Result tab lists them): it must not be used as it is. Undo the move (Ctrl+Z), move the "
                "session again, or solve again.")
    if outcome.violations:
        return (f"This timetable breaks {len(outcome.violations)} hard rule(s) of the current clinic data: "
                "it must not be used. Solve again.")
    if stale:
        return "The clinic data changed since this timetable was made: solve again to update it."
    return ""


def export_summary(outcome: SolveOutcome) -> dict:
    """summary.json for an export: the solver's summary, marked invalid (with the violations) when
    the timetable breaks hard rules of the scenario it is checked against."""
    summary = outcome_summary(outcome)
    if outcome.violations:
        summary["violations"] = [{"rule": v.rule, "message": v.message} for v in outcome.violations]
        summary["status"] = SolveStatus.INVALID.value
        note = (f"The timetable breaks {len(outcome.violations)} hard rule(s) of the clinic data it was "
                "exported with: it must not be used.")
        summary["message"] = f"{note} {summary.get('message') or ''}".strip()
    return summary
