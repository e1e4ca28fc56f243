"""The result panel and the solve runner on their own: every status in words; cancel before any solution."""

from __future__ import annotations

import time

import pytest

from scheduler.model import Timetable
from solver.result import SolveParams, SolveResult, SolveStatus, Term, WaitlistEntry
from ui.outcome import SolveOutcome, status_words
from ui.views.result_panel import ResultPanel
from ui.workers.solve_worker import SolveRunner, warm_up
from ui_helpers import demo_scenario


@pytest.mark.parametrize(
    ("status", "gap_bound", "timetable", "words"),
    [
        (SolveStatus.OPTIMAL, 10.0, True, "Optimal"),
        (SolveStatus.FEASIBLE, 9.79, True, "Within 2.1% of optimal"),
        (SolveStatus.INFEASIBLE, None, False, "No timetable exists"),
        (SolveStatus.CANCELLED, 5.0, True, "Cancelled — best timetable found so far"),
        (SolveStatus.UNKNOWN, None, False, "Stopped at the time limit"),
    ],
)
def test_status_in_words(status, gap_bound, timetable, words):
    result = SolveResult(status, Timetable() if timetable else None, objective=10.0 if gap_bound else None,
                         bound=gap_bound, seconds=3.0)
    assert status_words(result)[0] == words


def test_an_infeasible_result_explains_itself(qtbot):
    scenario = demo_scenario()
    result = SolveResult(
        SolveStatus.INFEASIBLE, None, seconds=2.0,
        explanations=("Dr Reyes is available 6 h on Tue and Thu, but the 14 medication checks need 7.5 h.",),
        waitlist=(WaitlistEntry("P003", "no prescriber time left on Thu"),),
    )
    panel = ResultPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_outcome(SolveOutcome(result, scenario))
    assert panel.headline.text() == "No timetable exists"
    assert panel.explain_card.isVisible()
    assert panel.explanations.item(0).text().startswith("Dr Reyes is available 6 h")
    assert panel.waitlist_shown() and panel.waitlist.rowCount() == 1
    assert panel.details.tabText(panel.details.indexOf(panel.waitlist_page)) == "Waitlist (1)"
    assert panel.waitlist.index(0, 1).data() == "no prescriber time left on Thu"
    assert not panel.violations_card.isVisible()
    assert panel.metric_labels["Objective"].text() == "—"
    assert panel.best_effort_button.isVisible()
    with qtbot.waitSignal(panel.bestEffortRequested):
        panel.best_effort_button.click()


def test_terms_and_numbers_are_shown(qtbot):
    scenario = demo_scenario()
    terms = (Term("S1", "preferences", 3, 2), Term("S5", "efficiency", 1, 20))
    result = SolveResult(SolveStatus.FEASIBLE, Timetable(), objective=26.0, bound=25.0, seconds=4.0, terms=terms)
    panel = ResultPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_outcome(SolveOutcome(result, scenario), stale=True)
    # Out of date: the headline is not the green "Within 3.8%" any more; the detail still says what it was.
    assert panel.headline.text() == "Out of date" and panel.headline.property("tone") == "warn"
    assert "solve again" in panel.detail.text() and "Within 3.8% of optimal" in panel.detail.text()
    panel.show_outcome(SolveOutcome(result, scenario))
    assert panel.headline.text() == "Within 3.8% of optimal" and panel.headline.property("tone") == "ok"
    panel.show_outcome(SolveOutcome(result, scenario), stale=True)
    assert [panel.metric_labels[k].text() for k in ("Objective", "Bound", "Gap")] == ["26.00", "25.00", "3.8%"]
    assert panel.terms.rowCount() == 3 and panel.terms.index(2, 3).data() == "26"
    assert panel.violations_card.isVisible() and "every hard rule" in panel.violations_note.text()


def test_cancel_before_the_first_solution_still_answers(qtbot):
    """Esc right after F5: the model is still being built when the cancel arrives."""
    warm_up()  # as the window does at start-up: OR-Tools is imported before any solve
    runner = SolveRunner()
    try:
        with qtbot.waitSignal(runner.finished, timeout=5_000) as blocker:
            assert runner.start(demo_scenario(), SolveParams(time_limit=20))
            assert not runner.start(demo_scenario(), SolveParams(time_limit=20))  # one solve at a time
            started = time.monotonic()
            runner.cancel()
        took = time.monotonic() - started
    finally:
        runner.cancel()
        runner.wait()  # (also for the solver's helper, which may still finish building the model)
    assert took < 1.5, f"the answer came {took:.2f} s after the cancel"
    assert blocker.args[0].result.status in (SolveStatus.CANCELLED, SolveStatus.INFEASIBLE, SolveStatus.INVALID)
    assert not runner.is_running()


def test_a_best_effort_result_that_drops_a_pinned_session_is_reviewed_as_valid_and_says_so():
    """P3 is waitlisted and last week's pinned IND of P3 cannot be kept (it would name a patient the
    timetable does not schedule): the review checks the pins without waitlisted patients, so it finds
    no broken rule, and the status words name the pinned session not kept."""
    import solver_fixtures as fx
    from dataclasses import replace

    from ui.outcome import review

    base = fx.oversubscribed_therapist()
    pinned = fx.sess("Mon", "10:00", "11:00", "IND", "T1", "O1", "P3", pinned=True)
    scenario = replace(base, previous=Timetable((replace(pinned, session_id="S9"),)))
    kept = Timetable((fx.sess("Mon", "09:00", "10:00", "IND", "T1", "O1", "P1"),
                      fx.sess("Mon", "10:00", "11:00", "IND", "T1", "O1", "P2"))).numbered()
    result = SolveResult(SolveStatus.FEASIBLE, kept, objective=0.0, bound=0.0, seconds=1.0,
                         waitlist=(WaitlistEntry("P3", "no time left with their therapist"),),
                         dropped_pins=("S9 (Mon 10:00)",))
    outcome = review(scenario, result)
    assert outcome.violations == ()
    detail = status_words(result)[1]
    assert "1 patient(s) are on the waitlist" in detail and "1 pinned session(s) could not be kept" in detail
    # And through summary.json (a stored result) the same.
    from ui.outcome import result_from_summary

    assert result_from_summary(result.summary(), kept).dropped_pins == ("S9 (Mon 10:00)",)
