"""Problems found in input files, each pinned to a file, a row, a column and a value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class InputError:
    """One problem (error or warning) in an input file; row is the spreadsheet row (header = 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file or "scenario"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.value is not None:
            where.append(f"value '{self.value}'")
        return f"{', '.join(where)}: {self.message}"


class ScenarioError(Exception):
    """Raised when input files cannot be read; ``errors`` lists every problem found."""

    def __init__(self, errors: Iterable[InputError], warnings: Iterable[InputError] = ()) -> None:
        self.errors: list[InputError] = list(errors)
        self.warnings: list[InputError] = list(warnings)
        super().__init__(self._render())

    def _render(self) -> str:
        """All errors, one per line, under a headline with their count."""
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in the input:"]
        lines.extend(f"  - {error}" for error in self.errors)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._render()
