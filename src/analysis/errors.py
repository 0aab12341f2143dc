"""Errors that the CLI turns into one clear line and a non-zero exit code."""

from __future__ import annotations


class CrimeplanError(Exception):
    """Base class: a problem the user can fix; shown as one line, no traceback."""

    exit_code = 1


class InputError(CrimeplanError):
    """A raw input file is unusable. Names the file and, when known, the line."""

    exit_code = 2

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class FetchError(CrimeplanError):
    """A download failed (offline, not found, checksum mismatch)."""

    exit_code = 3
