"""Why no timetable exists: pre-solve arithmetic checks, then an assumption-based core in words.

``explain`` first runs the fast checks of ``solver.explain_checks``. When they find
nothing, it builds the CP-SAT model with one enforcement literal per rule family and
subject (a patient's days, a therapist's caps, a group's sizes...), solves under all of
them as assumptions, and shrinks the conflicting set by deletion while time allows.
Every kept set is re-verified by a solve of its own, so the final set is truly
infeasible on its own, and minimal when the time budget sufficed.
"""

from __future__ import annotations

import logging
import time

from ortools.sat.python import cp_model

from scheduler.model import DAY_NAMES, Scenario
from scheduler.timegrid import format_availability
from solver.repair import solve_cancellable
from solver.builder import IopModel
from solver.explain_checks import Finding, precheck
from solver.space import build_space

__all__ = ["Finding", "precheck", "explain", "core_explanation"]

log = logging.getLogger("solver.explain")


def explain(scenario: Scenario, time_limit: float = 30.0) -> list[Finding]:
    """Plain-words reasons why ``scenario`` has no timetable; empty when none is found."""
    findings = precheck(scenario)
    if findings:
        return findings
    return core_explanation(scenario, time_limit)


def core_explanation(scenario: Scenario, time_limit: float = 30.0) -> list[Finding]:
    """A small set of rules that cannot hold together, found with assumptions and re-verified."""
    deadline = time.monotonic() + time_limit
    model = IopModel(build_space(scenario), explain=True).build()
    model.m.clear_objective()
    names = {lit.index: name for name, lit in model.guards.items()}
    lits = list(model.guards.values())
    infeasible, core = _check(model, lits, _left(deadline, 0.5))
    if not infeasible:
        if time.monotonic() >= deadline - 0.5:
            return [Finding("?", (), "The search for a conflict ran out of time: no explanation was found, "
                            "but no timetable was found either. Try a longer time limit.")]
        return []
    members = [lit for lit in lits if lit.index in core] or lits
    verified = members
    if core and len(members) < len(lits):
        ok, _ = _check(model, members, _left(deadline, 0.5))
        verified = members if ok else lits
    members = _shrink(model, verified, deadline)
    minimal = time.monotonic() < deadline
    return _render(scenario, model, [names[lit.index] for lit in members], minimal)


def _left(deadline: float, share: float) -> float:
    return max(0.5, (deadline - time.monotonic()) * share)


def _check(model: IopModel, lits: list, seconds: float) -> tuple[bool, set[int]]:
    """Solve under ``lits`` as assumptions: (proven infeasible, indices of a sufficient subset)."""
    model.m.clear_assumptions()
    model.m.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    # Measured: presolve dominates each check (about 10 s on 40 patients) while the proof
    # itself is quick; without it the first proof took 6.5 s and a 4-rule re-check 4.8 s.
    solver.parameters.cp_model_presolve = False
    code = solve_cancellable(solver, model.m, None)
    if code != cp_model.INFEASIBLE:
        return False, set()
    return True, set(solver.sufficient_assumptions_for_infeasibility())


def _shrink(model: IopModel, members: list, deadline: float) -> list:
    """Deletion-based minimisation: drop a member whenever the rest is still infeasible."""
    kept = list(members)
    i = 0
    while i < len(kept) and time.monotonic() < deadline:
        trial = kept[:i] + kept[i + 1 :]
        if not trial:
            break
        infeasible, core = _check(model, trial, min(5.0, _left(deadline, 1.0)))
        if infeasible:
            smaller = [lit for lit in trial if lit.index in core]
            kept = smaller if smaller else trial
        else:
            i += 1
    return kept


def _render(scenario: Scenario, model: IopModel, members: list[str], minimal: bool) -> list[Finding]:
    """One headline plus one sentence per conflicting rule."""
    parts = [_sentence(scenario, model, name) for name in members]
    subjects = tuple(sorted({s for _rule, subs, _text in parts for s in subs}))
    rules = sorted({rule for rule, _subs, _text in parts})
    headline = "No timetable can satisfy these rules together: " + "; ".join(text for _r, _s, text in parts) + "."
    headline += (
        " Relaxing any one of them removes this conflict."
        if minimal
        else " (The search ran out of time, so the list may hold more than the essential rules.)"
    )
    out = [Finding(",".join(rules), subjects, headline)]
    out += [Finding(rule, subs, text[0].upper() + text[1:] + ".") for rule, subs, text in parts]
    return out


def _sentence(sc: Scenario, model: IopModel, name: str) -> tuple[str, tuple[str, ...], str]:
    """(rule, subjects, words) for one guard such as ``H6[P03,MED]``."""
    rule, _, rest = name.partition("[")
    subjects = tuple(rest.rstrip("]").split(","))
    prog = sc.program

    def patient(pid: str) -> str:
        p = sc.patient_by_id.get(pid)
        return f"patient {p.name} ({pid})" if p and p.name else f"patient {pid}"

    def staff(sid: str) -> str:
        s = sc.staff_by_id.get(sid)
        return f"{s.name} ({sid})" if s and s.name else sid

    if rule == "H1":
        p = sc.patient_by_id[subjects[0]]
        lim = p.limits(prog)
        avail = format_availability(p.availability) or "whenever the program is open"
        return "H1", subjects, f"{patient(p.id)} must attend {_range(lim.min_days, lim.max_days)} day(s) a week (available {avail})"
    if rule == "H2":
        p = sc.patient_by_id[subjects[0]]
        lim = p.limits(prog)
        return "H2", subjects, (
            f"{patient(p.id)} needs {_range(lim.min_hours, lim.max_hours)} h on each attended day "
            f"with gaps of at most {prog.max_gap_minutes} min"
        )
    if rule == "H2w":
        p = sc.patient_by_id[subjects[0]]
        lim = p.limits(prog)
        return "H2", subjects, f"{patient(p.id)} needs {_range(lim.min_week_hours, lim.max_week_hours)} h in the week"
    if rule == "H4p":
        return "H4", subjects, f"{patient(subjects[0])} can attend only one session at a time"
    if rule == "H4s":
        st = sc.staff_by_id[subjects[0]]
        avail = format_availability(st.availability) or "whenever the program is open"
        return "H4", subjects, f"{staff(st.id)} can lead only one session at a time (available {avail})"
    if rule == "H4r":
        room = sc.room_by_id[subjects[0]]
        return "H4", subjects, f"room {room.name or room.id} ({room.id}, {room.capacity} seats) holds one session at a time"
    if rule == "H5":
        a = sc.activity_by_id[subjects[0]]
        qualified = [s.name or s.id for s in sc.staff if a.skill in s.skills]
        return "H5", subjects, (
            f"each {a.name} ({a.id}) session needs {_range(a.min_size, a.max_size)} patients, "
            f"{a.staff_count} of {', '.join(qualified) or 'no one'} (skill '{a.skill}')"
            + ("" if a.room_kind.value == "none" else f" and a {a.room_kind.value} room")
        )
    if rule == "H6":
        p = sc.patient_by_id[subjects[0]]
        a = sc.activity_by_id[subjects[1]]
        req = p.requirement(a.id)
        count = _range(req.min_count, req.max_count) if req else "0"
        who = staff(p.primary_therapist) if a.with_primary and p.primary_therapist else None
        extra = f" with {who}" if who else ""
        return "H6", subjects, f"{patient(p.id)} needs {count} {a.name} ({a.id}) session(s) this week{extra}"
    if rule == "H8":
        st = sc.staff_by_id[subjects[0]]
        caps = []
        if st.max_hours_day is not None:
            caps.append(f"{st.max_hours_day:g} h a day")
        if st.max_hours_week is not None:
            caps.append(f"{st.max_hours_week:g} h a week")
        days = sorted({w.day for w in st.availability.windows}) or list(prog.days)
        return "H8", subjects, f"{staff(st.id)} works at most {' and '.join(caps) or 'their hours'} ({', '.join(DAY_NAMES[d] for d in days)})"
    if rule == "H9":
        text = model.guard_text.get(name, ("a pinned session must be kept", ()))[0]
        return "H9", subjects, text
    return rule, subjects, name


def _range(lo: float, hi: float) -> str:
    return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
