"""CP-SAT optimiser: takes a Scenario, returns a SolveResult. Never imports Qt, SQLAlchemy or pandas."""

from solver.result import Progress, SolveParams, SolveResult, SolveStatus, Term, WaitlistEntry

__all__ = ["Progress", "SolveParams", "SolveResult", "SolveStatus", "Term", "WaitlistEntry", "solve"]


# Imported eagerly: a first solve must not import modules on a worker thread while
# holding the GIL (the desktop app's event loop would stall for ~100 ms).
from solver.model import solve as _solve  # noqa: E402


def solve(scenario, params=None, on_progress=None, cancel=None):
    """Solve ``scenario``; see ``solver.model.solve``."""
    return _solve(scenario, params or SolveParams(), on_progress=on_progress, cancel=cancel)
