"""The one error type for bad data files: it names the file, the field and the problem."""

from __future__ import annotations

from pathlib import Path


class DataFileError(Exception):
    """A persona, rubric or other data file that cannot be used.

    The message is bilingual (Japanese first) and names the file and the field path.
    """

    def __init__(self, path: Path | str, field: str, problem_ja: str, problem_en: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem_ja = problem_ja
        self.problem_en = problem_en
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.problem_ja} / {self.problem_en}"


class LLMUnavailable(Exception):
    """The configured chat model could not give a usable answer for this turn."""


class AccessDenied(Exception):
    """The signed-in user may not see or change this object (or do this at all)."""
