"""Scenario tables: each CSV file or worksheet read as text, its header checked, and the problems met.

Cells stay text here (``values.py`` parses them), so that every problem can still name its file,
spreadsheet row and column; ``Issues`` collects them all rather than stopping at the first.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, TypeVar

import openpyxl
import pandas as pd

from scheduler.io.errors import InputError, ScenarioError

T = TypeVar("T")

SCENARIO_TABLES = ("program", "activities", "staff", "rooms", "patients")
OPTIONAL_TABLES = ("previous_sessions",)

# name -> (required columns, optional columns)
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "program": (("key", "value"), ()),
    "activities": (
        ("id", "mode", "duration_min", "skill"),
        ("name", "min_size", "max_size", "staff_count", "room_kind", "cohort", "tag", "with_primary", "in_block"),
    ),
    "staff": (("id", "skills"), ("name", "role", "availability", "max_hours_day", "max_hours_week")),
    "rooms": (("id", "kind", "capacity"), ("name", "availability")),
    "patients": (
        ("id",),
        (
            "name", "cohort", "tags", "min_days", "max_days", "min_hours", "max_hours", "min_week_hours",
            "max_week_hours", "availability", "family_availability", "primary_therapist", "requirements",
            "preferred_days", "status",
        ),
    ),
    "sessions": (
        ("day", "start", "end", "activity_id", "staff_ids", "room_id", "patient_ids"),
        ("session_id", "date", "activity_name", "pinned"),
    ),
}
COLUMNS["previous_sessions"] = COLUMNS["sessions"]

_PARSER_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OLD_EXCEL = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # how an Excel 97-2003 (.xls) file begins
_SAVE_AS_XLSX = "open it in Excel and save it as 'Excel Workbook (.xlsx)'"


# --------------------------------------------------------------------------- problems


class Issues:
    """Collects errors and warnings; reading never stops at the first one."""

    def __init__(self) -> None:
        self.errors: list[InputError] = []
        self.warnings: list[InputError] = []

    def error(self, file: str, row: int | None, column: str | None, value: str | None, message: str) -> None:
        self.errors.append(InputError(file, row, column, value, message))

    def warn(self, file: str, row: int | None, column: str | None, value: str | None, message: str) -> None:
        self.warnings.append(InputError(file, row, column, value, message))

    def raise_if_any(self) -> None:
        """Raise one ScenarioError listing every error collected so far."""
        if self.errors:
            raise ScenarioError(self.errors, self.warnings)


def _guarded(issues: Issues, label: str, default: T, fn: Callable[..., T], *args) -> T:
    """Run one reading step; an unexpected exception becomes an error naming the file."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - malformed input must never surface as a traceback
        issues.error(label, None, None, None, f"could not be read ({type(exc).__name__}: {exc})")
        return default


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Row:
    """One non-blank data row: its spreadsheet row number and its cells by column name.

    ``errors`` holds the cells whose worksheet cell holds a spreadsheet error value (``#N/A``,
    ``#DIV/0!``, ...); their text is that value. Each is reported once (``_checked``), as is a short
    row (``missing``); the reader then treats those cells as unreadable instead of parsing them.
    """

    number: int
    cells: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()  # columns a short CSV row has no cell for (reported once)

    def unreadable(self, column: str) -> bool:
        """The cell was already reported as unreadable: parsing it would only repeat the error."""
        return column in self.errors or column in self.missing


@dataclass(frozen=True)
class Table:
    """One CSV file or worksheet, header checked, cells stripped, blank rows dropped."""

    label: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    header_row: int = 1


def _clean(value: object) -> str:
    """A pandas cell as stripped text; missing cells are empty."""
    if not isinstance(value, str):
        return ""
    return value.replace("\ufeff", "").strip()


def _decode(data: bytes, label: str, issues: Issues) -> str | None:
    """UTF-8 text with or without a byte-order mark; anything else is an error that says so."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        issues.error(
            label, row, None, None,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); "
            "save it as 'CSV UTF-8 (comma delimited)'",
        )
        return None


def _excel_separator_hint(text: str) -> tuple[str, str | None]:
    """Drop an Excel ``sep=;`` first line (Excel does not show it) and return its separator."""
    first, newline, rest = text.partition("\n")
    m = re.fullmatch(r"\s*sep=(.)\s*", first)
    return (rest, m.group(1)) if m and newline else (text, None)


def _sniff_delimiter(text: str) -> str:
    """The separator of the header line: ',' unless ';' or a tab is more frequent."""
    header = next((line for line in text.split("\n") if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {sep: unquoted.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _parser_problem(exc: Exception) -> tuple[int | None, str]:
    """A pandas tokenizer error as (row, plain words)."""
    m = _PARSER_FIELDS.search(str(exc))
    if not m:
        return None, f"cannot be read as CSV ({exc})"
    expected, line, saw = m.groups()
    return int(line), (
        f"this row has {saw} cells but the header has {expected}; "
        "a value that contains the separator must be put in double quotes"
    )


def _csv_table(path: Path, label: str, issues: Issues) -> Table | None:
    """Read one CSV file (UTF-8, any line ending, ',' ';' or tab separated) into a Table."""
    text = _decode(path.read_bytes(), label, issues)
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        issues.error(label, None, None, None, "the file is empty; expected a header row")
        return None
    text, separator = _excel_separator_hint(text)
    # Blank lines before the header are skipped here: pandas would take the first one for a
    # header-less file of no columns. ``skipped`` keeps the row numbers those of the file.
    lines = text.split("\n")
    skipped = next((i for i, line in enumerate(lines) if line.strip()), 0)
    text = "\n".join(lines[skipped:])
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=separator or _sniff_delimiter(text), header=None, dtype=str,
            keep_default_na=False, skip_blank_lines=False, engine="c",
        )
    except pd.errors.ParserError as exc:
        row, message = _parser_problem(exc)
        issues.error(label, None if row is None else row + skipped, None, None, message)
        return None
    counts = _cell_counts(text, separator or _sniff_delimiter(text), len(frame))
    widths = None if counts is None else [0] * skipped + counts
    return _table_from_grid(_grid(frame, skipped), label, issues, widths=widths)


def _cell_counts(text: str, separator: str, records: int) -> list[int] | None:
    """The number of cells written on each record of a CSV text (pandas pads a short row with empty cells).

    None when Python's csv module does not split the text into as many records as pandas did, so
    that the counts could not be matched to rows: the check is then left out rather than guessed.
    """
    try:
        counts = [len(record) for record in csv.reader(io.StringIO(text, newline=""), delimiter=separator)]
    except (csv.Error, TypeError, ValueError):
        return None
    return counts if len(counts) == records else None


def _grid(frame: pd.DataFrame, skipped: int = 0) -> list[list[str]]:
    """A header-less frame of text as rows of stripped cells, after ``skipped`` blank rows."""
    return [[""]] * skipped + [[_clean(v) for v in values] for values in frame.itertuples(index=False, name=None)]


def _table_from_grid(
    grid: list[list[str]],
    label: str,
    issues: Issues,
    errors: dict[tuple[int, int], str] | None = None,
    widths: list[int] | None = None,
) -> Table | None:
    """Turn rows of text into a Table: header found, checked and lower-cased.

    ``errors`` maps (row index, column index) to the spreadsheet error value a worksheet cell holds
    (its text in ``grid``). One in the header is reported here; the others travel with their rows.
    ``widths`` (CSV only) is the number of cells written on each row: a row with fewer than the
    header names is an error here, and its missing cells travel with it.
    """
    errors = errors or {}
    header_index = next((i for i, cells in enumerate(grid) if any(cells)), None)
    if header_index is None:
        issues.error(label, None, None, None, "the file is empty; expected a header row")
        return None
    header = [cell.lower() for cell in grid[header_index]]
    for (r, c), code in sorted(errors.items()):
        if r == header_index and c < len(header):
            issues.error(label, r + 1, None, code, f"the header cell of column {c + 1} holds the spreadsheet error "
                         f"{code}; type the column's name there")
            header[c] = ""
    if not _header_ok(header, label, header_index + 1, issues):
        return None
    by_row: dict[int, dict[str, str]] = {}
    for (r, c), code in errors.items():
        if r > header_index and c < len(header) and header[c]:
            by_row.setdefault(r, {})[header[c]] = code
    named = [j for j, name in enumerate(header) if name]
    rows = []
    for i, cells in enumerate(grid):
        if i <= header_index or not any(cells):
            continue
        missing: frozenset[str] = frozenset()
        if widths is not None and named and widths[i] <= named[-1]:
            absent = [header[j] for j in named if j >= widths[i]]
            missing = _short_row(widths[i], absent, len(named), label, i + 1, issues)
        values = {name: cells[j] if j < len(cells) else "" for j, name in enumerate(header) if name}
        rows.append(Row(i + 1, values, by_row.get(i, {}), missing))
    _warn_unnamed_columns(header, grid[header_index + 1 :], label, header_index + 1, issues)
    return Table(label, tuple(name for name in header if name), tuple(rows), header_index + 1)


def _short_row(count: int, missing: list[str], columns: int, label: str, row: int, issues: Issues) -> frozenset[str]:
    """A row with fewer cells than the header is an error: which cell was left out cannot be known."""
    cells = "1 cell" if count == 1 else f"{count} cells"
    issues.error(
        label, row, missing[0], None,
        f"this row has {cells} but the header has {columns}, so {', '.join(missing)} "
        f"{'has' if len(missing) == 1 else 'have'} no cell; give every column a cell (an empty one is fine: "
        "two separators in a row) and check that no value has moved into the wrong column",
    )
    return frozenset(missing)


def _header_ok(header: list[str], label: str, row: int, issues: Issues) -> bool:
    """False (with an error) when a column name appears twice."""
    seen: dict[str, int] = {}
    ok = True
    for position, name in enumerate(header, start=1):
        if not name:
            continue
        if name in seen:
            issues.error(
                label, row, name, name,
                f"the column name appears twice (columns {seen[name]} and {position}); keep one",
            )
            ok = False
        seen.setdefault(name, position)
    return ok


def _warn_unnamed_columns(header: list[str], body: list[list[str]], label: str, row: int, issues: Issues) -> None:
    """Warn once per header-less column that still holds values (they are ignored)."""
    for position, name in enumerate(header):
        if not name and any(position < len(cells) and cells[position] for cells in body):
            issues.warn(label, row, None, None, f"column {position + 1} has no header; its values are ignored")


def _check_columns(table: Table, kind: str, issues: Issues) -> bool:
    """Missing required columns are errors (False); unknown columns are warnings."""
    required, optional = COLUMNS[kind]
    ok = True
    for name in required:
        if name not in table.columns:
            issues.error(
                table.label, None, name, None,
                f"required column is missing; the header has: {', '.join(table.columns) or 'nothing'}",
            )
            ok = False
    for name in table.columns:
        if name not in required and name not in optional:
            issues.warn(table.label, table.header_row, name, None, "unknown column; it is ignored")
    return ok


def _checked(table: Table | None, kind: str, issues: Issues) -> Table | None:
    """The table if it has every required column, else None; its spreadsheet error values reported."""
    if table is None or not _check_columns(table, kind, issues):
        return None
    return _report_cell_errors(table, kind, issues)


def _report_cell_errors(table: Table, kind: str, issues: Issues) -> Table:
    """Each spreadsheet error value in a column read is an error; those in ignored columns are dropped.

    pandas reads such a cell (``#DIV/0!``, ``#N/A``, ``#REF!``, ...) as empty, and an empty cell
    means "the default" (for an availability: any time), so it must never pass for one.
    """
    if not any(row.errors for row in table.rows):
        return table
    required, optional = COLUMNS[kind]
    known = set(required) | set(optional)
    rows = []
    for row in table.rows:
        errors = {column: code for column, code in row.errors.items() if column in known}
        for column, code in errors.items():
            issues.error(table.label, row.number, column, code,
                         f"the cell holds the spreadsheet error {code}; correct the formula or type the value")
        rows.append(replace(row, errors=errors))
    return replace(table, rows=tuple(rows))


def _folder_tables(folder: Path, issues: Issues) -> dict[str, Table | None]:
    """Each scenario table read from ``<name>.csv`` in the folder (file names case-insensitive)."""
    entries: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        entries.setdefault(entry.name.lower(), []).append(entry)
    tables: dict[str, Table | None] = {}
    for name in SCENARIO_TABLES + OPTIONAL_TABLES:
        label = f"{name}.csv"
        path = _table_file(folder, label, entries.get(label, []), name in SCENARIO_TABLES, issues)
        if path is not None:
            table = _guarded(issues, label, None, _csv_table, path, label, issues)
            tables[name] = _checked(table, name, issues)
    return tables


def _table_file(folder: Path, label: str, found: list[Path], required: bool, issues: Issues) -> Path | None:
    """The one file named ``label`` in any case; two such names, or a folder so named, is an error."""
    where = f"folder '{folder.name}'"
    if len(found) > 1:
        names = [f"'{p.name}'" for p in found]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        issues.error(label, None, None, None, f"{where} holds {listed}, names that differ only in case; file names "
                     "are read regardless of case, so which one to read is unclear: keep one")
        return None
    if not found:
        if required:
            issues.error(label, None, None, None, f"the file is missing from {where}")
        return None
    path = found[0]
    if path.is_dir():
        issues.error(label, None, None, None, f"'{path.name}' in {where} is a folder, not a file")
        return None
    if not path.is_file():
        issues.error(label, None, None, None, f"'{path.name}' in {where} is not a file that can be read "
                     "(a broken link or a special file)")
        return None
    return path


def _sheet_key(sheet_name: object) -> str:
    """Sheet ``Patients.csv `` -> ``patients``."""
    key = str(sheet_name).strip().lower()
    return key[:-4] if key.endswith(".csv") else key


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its cells as text (row 0 is spreadsheet row 1, column 0 is column A) and the
    cells holding a spreadsheet error value, by (row, column) index (their text in ``grid`` is the error)."""

    grid: list[list[str]]
    errors: dict[tuple[int, int], str]


def _error_cells(sheet) -> dict[tuple[int, int], str]:
    """(row, column) index -> value of each cell holding an error (``#N/A``, ``#DIV/0!``, ...)."""
    sheet.reset_dimensions()  # the declared size may be wrong (pandas does the same)
    return {
        (cell.row - 1, cell.column - 1): str(cell.value)
        for cells in sheet.iter_rows()
        for cell in cells
        if cell.data_type == "e"
    }


def _with_errors(frame: pd.DataFrame, errors: dict[tuple[int, int], str]) -> Sheet:
    """A sheet's frame as text, each error cell (pandas: a missing value) holding its error value."""
    grid = _grid(frame)
    for (r, c), code in errors.items():
        while len(grid) <= r:
            grid.append([])
        grid[r].extend([""] * (c + 1 - len(grid[r])))
        grid[r][c] = code
    return Sheet(grid, errors)


def _not_a_workbook(path: Path) -> str | None:
    """Why the file plainly is no .xlsx workbook (every one is a zip archive), or None when it may be one."""
    if zipfile.is_zipfile(path):
        return None
    with path.open("rb") as fh:
        if fh.read(len(_OLD_EXCEL)) == _OLD_EXCEL:
            return f"is an old Excel 97-2003 workbook (.xls), not an Excel workbook (.xlsx); {_SAVE_AS_XLSX}"
    return (f"is not an Excel workbook (.xlsx): an .xlsx file is a zip archive and this file is not one "
            f"(another kind of file renamed, or a copy cut short); {_SAVE_AS_XLSX}")


def _workbook_sheets(path: Path, issues: Issues) -> dict[str, Sheet] | None:
    """Every sheet of a workbook as text, with the cells holding spreadsheet error values."""
    reason = _not_a_workbook(path)
    if reason is not None:
        issues.error(path.name, None, None, None, reason)
        return None
    # openpyxl loads the workbook so that the error cells can be found; pandas then reads the same
    # workbook (and closes it) as it would the file, and gives those cells as missing values.
    book = None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        errors = {name: _error_cells(book[name]) for name in book.sheetnames}
        frames = pd.read_excel(book, sheet_name=None, header=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file is an input error
        issues.error(path.name, None, None, None, f"is a zip archive but not a readable Excel workbook (.xlsx): it is "
                     f"damaged or another kind of file; {_SAVE_AS_XLSX} (detail: {type(exc).__name__}: {exc})")
        return None
    finally:
        if book is not None:
            book.close()
    return {name: _with_errors(frame, errors.get(name, {})) for name, frame in frames.items()}


def _table_from_sheet(sheet: Sheet, label: str, issues: Issues) -> Table | None:
    return _table_from_grid(sheet.grid, label, issues, sheet.errors)


def _workbook_tables(path: Path, issues: Issues) -> dict[str, Table | None]:
    """Each scenario table read from the sheet of the same name (with or without ``.csv``)."""
    sheets = _workbook_sheets(path, issues)
    if sheets is None:
        return {}
    tables: dict[str, Table | None] = {}
    for sheet_name, sheet in sheets.items():
        key, label = _sheet_key(sheet_name), f"{path.name} [{str(sheet_name).strip()}]"
        if key not in SCENARIO_TABLES + OPTIONAL_TABLES:
            issues.warn(path.name, None, None, str(sheet_name), "unknown sheet; it is ignored")
        elif key in tables:
            issues.error(label, None, None, None, f"a second sheet for '{key}'; keep one")
        else:
            table = _guarded(issues, label, None, _table_from_sheet, sheet, label, issues)
            tables[key] = _checked(table, key, issues)
    for name in SCENARIO_TABLES:
        if name not in tables:
            names = ", ".join(str(s) for s in sheets) or "none"
            issues.error(f"{path.name} [{name}]", None, None, None, f"the sheet is missing; the workbook has: {names}")
    return tables


def _scenario_tables(path: Path, issues: Issues) -> dict[str, Table | None]:
    """The tables of a scenario folder or workbook; a path that is neither is an error."""
    if path.is_dir():
        return _folder_tables(path, issues)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        return _workbook_tables(path, issues)
    if not path.exists():
        issues.error(path.name or str(path), None, None, None, "no such folder or file")
    else:
        issues.error(path.name, None, None, None, "expected a folder of CSV files or an .xlsx workbook")
    return {}
