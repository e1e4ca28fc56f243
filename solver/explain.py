"""Why no timetable exists: pre-solve arithmetic checks, then an assumption-based core in words.

``explain`` first runs the fast checks of ``solver.explain_checks``. When they find
nothing, it looks for a patient who cannot be scheduled even alone (``_alone``: the
patient with every staff member and room, each group open to them whatever its minimum
size, no pins), whose small model gives a focused core quickly. Then it builds the CP-SAT
model of the whole clinic with one enforcement literal per rule family and subject (a
patient's days, a therapist's caps, a group's sizes...), solves under all of them as
assumptions, and shrinks the conflicting set by deletion while time allows. Every kept set
is re-verified by a solve of its own, so the final set is truly infeasible on its own, and
minimal when the time budget sufficed. A search that neither proves a conflict nor finds
a week says so; it never reports "no conflict" from a timeout.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from ortools.sat.python import cp_model

from scheduler.model import DAY_NAMES, Scenario
from scheduler.timegrid import format_availability, open_windows
from solver.repair import solve_cancellable
from solver.builder import IopModel
from solver.explain_checks import Finding, precheck
from solver.space import build_space

__all__ = ["Finding", "precheck", "explain", "core_explanation", "alone_explanation"]

log = logging.getLogger("solver.explain")


def explain(scenario: Scenario, time_limit: float = 30.0) -> list[Finding]:
    """Plain-words reasons why ``scenario`` has no timetable; empty when none is found."""
    findings = precheck(scenario)
    if findings:
        return findings
    return core_explanation(scenario, time_limit)


ALONE_SHARE = 0.3  # of the time limit, at most, for the patients-alone stage
ALONE_SECONDS = 3.0  # per patient, at most
# After an undecided search of a small clinic (``core_explanation(after_search=True)``): of the time,
# at most, for the patients alone (at the default 30%, 1.5 s of 5, the fifth patient's 0.5-s check began
# with 0.66 s left, and CI ended ``unknown``), and of what is left, for the one whole-clinic check.
ALONE_AFTER_SEARCH = 0.7
WHOLE_AFTER_SEARCH = 0.7
ALONE_FIRST = 12  # up to this many patients the patients-alone stage comes first (0.05-0.8 s a patient)
_OUT_OF_TIME = ("The search for a conflict ran out of time: no explanation was found, "
                "but no timetable was found either. Try a longer time limit.")


def core_explanation(scenario: Scenario, time_limit: float = 30.0, after_search: bool = False) -> list[Finding]:
    """A small set of rules that cannot hold together, found with assumptions and re-verified.

    Small clinics first look for a patient who has no week even alone (``_alone``); larger ones
    only when the whole clinic's first check ends undecided (at 40 patients the stage takes about
    12 s, and the whole model's first proof of a prescriber shortage about 6.5 s).

    ``after_search``: the whole model has just been searched without a proof (a small clinic's
    undecided solve, in the few seconds kept for this). The patients alone may then take most of
    the time (``ALONE_AFTER_SEARCH``), and the whole clinic is checked once, with presolve on both
    cores, for most of the rest (``WHOLE_AFTER_SEARCH``): the usual 1-worker try first and 2-worker
    retry split 4 s into 0.9 s and 1.3 s, the proof took 0.8-1.3 s, and on a loaded machine (CI)
    both ran out and the solve ended ``unknown``."""
    deadline = time.monotonic() + time_limit
    small = len(scenario.patients) <= ALONE_FIRST
    if small:
        share = ALONE_AFTER_SEARCH if after_search else ALONE_SHARE
        alone = _alone(scenario, time.monotonic() + share * time_limit, deadline)
        if alone:
            return alone
    model = IopModel(build_space(scenario), explain=True).build()
    model.m.clear_objective()
    lits = list(model.guards.values())
    # Larger clinics check without presolve first (presolve dominates each of their checks), small
    # ones with it (their models presolve in a blink). A check still undecided is tried again with
    # presolve on both cores, and the shrinking goes on in the mode that gave the proof: an outside
    # check's 5-patient clinic, which the solve proved infeasible, came back "no conflict found"
    # from a 15-s timeout here; its proof takes 27 s without presolve, 0.8 s with.
    mode = {"presolve": small, "workers": 2 if after_search and small else 1}
    first = (WHOLE_AFTER_SEARCH if after_search else 0.25) if small else 0.5
    code, core = _check(model, lits, _left(deadline, first), **mode)
    if code == cp_model.UNKNOWN and not small:
        alone = _alone(scenario, time.monotonic() + 0.5 * (deadline - time.monotonic()), deadline)
        if alone:
            return alone
    if code == cp_model.UNKNOWN and deadline - time.monotonic() > 1.0 and mode["workers"] == 1:
        mode = {"presolve": True, "workers": 2}  # (small clinics: the same, on both cores)
        code, core = _check(model, lits, _left(deadline, 0.5), **mode)
    if code == cp_model.UNKNOWN:
        return [Finding("?", (), _OUT_OF_TIME)]
    if code != cp_model.INFEASIBLE:
        return []
    return _explained(scenario, model, core, deadline, mode)


def alone_explanation(scenario: Scenario, time_limit: float, only=None) -> list[Finding]:
    """The conflict of a patient (of ``only``, if given) who has no week even alone (``_alone``), or []
    if none is found in time."""
    deadline = time.monotonic() + time_limit
    return _alone(scenario, deadline, deadline, only)


def _explained(scenario: Scenario, model: IopModel, core: set[int], deadline: float, mode: dict,
               alone: str | None = None) -> list[Finding]:
    """The infeasible model's core, re-verified, shrunk while time allows, in words."""
    names = {lit.index: name for name, lit in model.guards.items()}
    lits = list(model.guards.values())
    members = [lit for lit in lits if lit.index in core] or lits
    verified = members
    if core and len(members) < len(lits):
        code, _ = _check(model, members, _left(deadline, 0.5), **mode)
        verified = members if code == cp_model.INFEASIBLE else lits
    members = _shrink(model, verified, deadline, mode)
    minimal = time.monotonic() < deadline
    return _render(scenario, model, [names[lit.index] for lit in members], minimal, alone)


def _alone(scenario: Scenario, until: float, deadline: float, only=None) -> list[Finding]:
    """The conflict of a patient who has no week even alone, or [] (none found before ``until``;
    the conflict found is narrowed until ``deadline``).

    Alone means: that patient only, with every staff member and room, every group open to them
    whatever its minimum size, and no pinned sessions. Any timetable of the clinic, cut down to
    that patient's sessions, is a week of this smaller scenario, so a patient without one proves
    that the clinic has none; and the small model's core names that patient's own rules (an
    outside check's clinic: the whole model found the conflict but could not narrow it in 20 s
    and listed every rule of the clinic; alone, one patient's days, hours and DBT count).
    Patients with the least available time are tried first."""
    if len(scenario.patients) < 2:
        return []  # the whole model is already this patient's
    prog = scenario.program
    open_to_all = tuple(replace(a, min_size=1) if a.is_group else a for a in scenario.activities)

    def available(p) -> int:
        return sum(w.end - w.start for d in prog.days for w in open_windows(p.availability, prog, d))

    for p in sorted(scenario.patients, key=lambda p: (available(p), p.id)):
        if only is not None and p.id not in only:
            continue
        left = until - time.monotonic()
        if left < 0.2:
            break
        single = replace(scenario, patients=(p,), activities=open_to_all, previous=None)
        model = IopModel(build_space(single), explain=True).build()
        model.m.clear_objective()
        mode = {"presolve": True, "workers": 1}  # small models: presolve pays (0.4-0.8 s each at 120 patients)
        code, core = _check(model, list(model.guards.values()), min(ALONE_SECONDS, left), **mode)
        if code == cp_model.INFEASIBLE:
            who = f"{p.name} ({p.id})" if p.name else p.id
            log.info("a patient has no week even alone")  # no names in logs (docs/privacy.md)
            return _explained(scenario, model, core, deadline, mode, who)
    return []


def _left(deadline: float, share: float) -> float:
    return max(0.5, (deadline - time.monotonic()) * share)


def _check(model: IopModel, lits: list, seconds: float, presolve: bool = False, workers: int = 1) -> tuple[int, set[int]]:
    """Solve under ``lits`` as assumptions: (CP-SAT status, indices of a sufficient subset when infeasible)."""
    model.m.clear_assumptions()
    model.m.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    # Measured: presolve dominates each check (about 10 s on 40 patients) while the proof
    # itself is quick; without it the first proof took 6.5 s and a 4-rule re-check 4.8 s.
    solver.parameters.cp_model_presolve = presolve
    code = solve_cancellable(solver, model.m, None)
    if code == cp_model.INFEASIBLE:
        return code, set(solver.sufficient_assumptions_for_infeasibility())
    return (cp_model.FEASIBLE if code == cp_model.OPTIMAL else code), set()


def _shrink(model: IopModel, members: list, deadline: float, mode: dict) -> list:
    """Deletion-based minimisation: drop a member whenever the rest is still infeasible."""
    kept = list(members)
    i = 0
    while i < len(kept) and time.monotonic() < deadline:
        trial = kept[:i] + kept[i + 1 :]
        if not trial:
            break
        code, core = _check(model, trial, min(5.0, _left(deadline, 1.0)), **mode)
        if code == cp_model.INFEASIBLE:
            smaller = [lit for lit in trial if lit.index in core]
            kept = smaller if smaller else trial
        else:
            i += 1
    return kept


def _render(scenario: Scenario, model: IopModel, members: list[str], minimal: bool, alone: str | None = None) -> list[Finding]:
    """One headline plus one sentence per conflicting rule (``alone``: the patient who has no week even on their own)."""
    parts = [_sentence(scenario, model, name) for name in members]
    subjects = tuple(sorted({s for _rule, subs, _text in parts for s in subs}))
    rules = sorted({rule for rule, _subs, _text in parts})
    headline = "No timetable can satisfy these rules together: " + "; ".join(text for _r, _s, text in parts) + "."
    if alone:
        headline += (f" Patient {alone} has no week even on their own, with every group open to them"
                     " (these rules concern them alone).")
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
        avail = format_availability(p.availability) or "whenever the program is open"
        return "H2", subjects, (
            f"{patient(p.id)} needs {_range(lim.min_hours, lim.max_hours)} h on each attended day "
            f"with gaps of at most {prog.max_gap_minutes} min (available {avail})"
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
            f"each {a.label} ({a.id}) session needs {_range(a.min_size, a.max_size)} patients, "
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
        return "H6", subjects, (f"{patient(p.id)} needs {count} {a.label} ({a.id}) session(s) of {a.duration_min} min "
                                f"this week{extra}")
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
