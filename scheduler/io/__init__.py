"""Scenario reader and timetable/scenario writers; every input problem names file, row, column and value."""

from scheduler.io.errors import InputError, ScenarioError
from scheduler.io.reader import ReadResult, read_scenario, read_timetable
from scheduler.io.writer import write_scenario, write_scenario_xlsx, write_timetable

__all__ = [
    "InputError",
    "ReadResult",
    "ScenarioError",
    "read_scenario",
    "read_timetable",
    "write_scenario",
    "write_scenario_xlsx",
    "write_timetable",
]
