"""Errors the store raises; each message is meant for the coordinator, not the engineer."""

from __future__ import annotations


class StoreError(Exception):
    """Something went wrong reading or writing the clinic database; the message says what to do."""


class DatabaseCorrupt(StoreError):
    """The file is not a clinic database, or it is damaged."""

    def __init__(self, where: str) -> None:
        name = where.replace("\\", "/").rsplit("/", 1)[-1] or "clinic.db"
        super().__init__(
            f"{where} is not a clinic database or is damaged; it was not changed. "
            f"Restore a backup copy (such as {name}.bak-… beside it, if there is one) or choose another file."
        )


class DatabaseTooNew(StoreError):
    """The database was written by a newer version of the app: opening it here could damage it."""

    def __init__(self, where: str, revision: str, head: str) -> None:
        super().__init__(
            f"{where} was written by a newer version of IOP Scheduler (schema {revision}; this version "
            f"knows up to {head}); it was not changed. Update the app to open it."
        )


class DatabaseMissing(StoreError):
    """A command that only reads was pointed at a database that does not exist yet; none was created."""

    def __init__(self, where: str, empty_file: bool = False) -> None:
        what = f"{where} is empty" if empty_file else f"There is no clinic database at {where}"
        super().__init__(f"{what}; nothing was created. Import a scenario into it first, or check the path.")


class DatabaseInUse(StoreError):
    """Another copy of the app held the database for longer than the busy timeout."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where} is busy: another copy of IOP Scheduler is writing to it. Nothing was changed; try again."
        )


class NotFound(StoreError):
    """A named item (a saved timetable) is not in the database."""
