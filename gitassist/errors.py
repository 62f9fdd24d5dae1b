"""The error root of gitassist and the documented exit codes.

Every error a user can cause is a :class:`GitassistError` subclass carrying a one-line message
and, where we know it, a ``hint`` that says how to fix it. The CLI maps each class to the exit
code in its ``exit_code`` attribute (see ``docs/exit-codes.md``); library errors (pygit2,
ruamel.yaml, jsonschema, pydantic) are translated into these where the library is wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass


class ExitCode:
    """Exit codes, documented in docs/exit-codes.md. Keep the two in step."""

    OK = 0
    CHANGES = 1  # --exit-code: there are changes / something to apply / drift
    USAGE = 2  # bad command-line usage (click's own code)
    INVALID = 3  # a document or input is invalid (validation failed)
    NOT_FOUND = 4  # unknown assistant, version, graph or revision
    CONFLICT = 5  # a concurrent writer won, a ref moved, an id already exists
    REPOSITORY = 6  # not a git repository, dirty tree, detached HEAD, wrong branch
    USER_CODE = 7  # the user's graph code raised
    REMOTE = 8  # a remote or server could not be reached or refused
    REFUSED = 9  # an environment's rules forbid the move (never held by its source, protected)
    INTERNAL = 70  # a bug in gitassist: the traceback is written to a log file
    IO = 74  # output or a file could not be written: disk full, quota, I/O error
    INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: 1-based line and column, and the revision if from history."""

    path: str
    line: int | None = None
    column: int | None = None
    rev: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.rev:
            where = f"{self.rev}:{where}"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where


class GitassistError(Exception):
    """Root of every error gitassist raises on purpose."""

    exit_code: int = ExitCode.INVALID
    code: str = "error"

    def __init__(
        self, message: str, *, hint: str | None = None, location: Location | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"error": self.code, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        if self.location:
            data["file"] = self.location.path
            data["line"] = self.location.line
            data["column"] = self.location.column
            if self.location.rev:
                data["rev"] = self.location.rev
        return data


class DocumentError(GitassistError):
    """An assistant document cannot be read: bad YAML, wrong shape, bad field."""

    exit_code = ExitCode.INVALID
    code = "invalid_document"


class ValidationFailed(GitassistError):
    """One or more documents failed validation; ``issues`` holds every problem found."""

    exit_code = ExitCode.INVALID
    code = "validation_failed"

    def __init__(self, message: str, issues: list[object], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.issues = issues


class UsageError(GitassistError):
    """A command-line value the core cannot use (e.g. ``--set a.b=1`` where ``a`` is 1)."""

    exit_code = ExitCode.USAGE
    code = "usage"


class ConfigError(GitassistError):
    """langgraph.json or the gitassist configuration is missing or malformed."""

    exit_code = ExitCode.INVALID
    code = "invalid_config"


class UnsafePath(GitassistError):
    """A working-tree path gitassist will not read or write: a symbolic link, a path that
    leaves the repository (``..``, absolute), or not a regular file. Names the file."""

    exit_code = ExitCode.INVALID
    code = "unsafe_path"


class HookFailed(GitassistError):
    """A git ``pre-commit`` or ``commit-msg`` hook refused a commit (or changed files); its
    output is in ``issues``, one line each."""

    exit_code = ExitCode.INVALID
    code = "hook_failed"

    def __init__(self, message: str, output: list[str], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.issues: list[object] = list(output)

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["output"] = [str(line) for line in self.issues]
        return data


class NotFound(GitassistError):
    """An assistant, version, graph or revision does not exist."""

    exit_code = ExitCode.NOT_FOUND
    code = "not_found"


class Conflict(GitassistError):
    """Someone else moved a ref first, or the id already exists."""

    exit_code = ExitCode.CONFLICT
    code = "conflict"


class RepositoryError(GitassistError):
    """The git repository is not in a state the command can work in."""

    exit_code = ExitCode.REPOSITORY
    code = "repository"


class BadRef(RepositoryError):
    """A ref under refs/assistants or refs/gitassist that gitassist did not write (forged,
    corrupt, or from a remote that holds such a ref): names the ref, exit 6."""

    code = "bad_ref"


class PromotionRefused(GitassistError):
    """An environment's rules forbid a move: a version its ``promote_from`` environment never
    held, or a protected environment without a reason (or, outside CI, without --force)."""

    exit_code = ExitCode.REFUSED
    code = "promotion_refused"


class UserCodeError(GitassistError):
    """The user's graph code failed to import or raised while running."""

    exit_code = ExitCode.USER_CODE
    code = "user_code"


class RemoteError(GitassistError):
    """A git remote or a LangGraph server failed or refused."""

    exit_code = ExitCode.REMOTE
    code = "remote"


class HistoryRewritten(RepositoryError):
    """The tracked branch no longer descends from the last applied commit."""

    code = "history_rewritten"


class ShallowClone(RepositoryError):
    """History the planner must walk is missing from this (shallow) clone."""

    code = "shallow_clone"
