"""What a plan says: the versions, latest moves, deletions and notes apply would record
(made by :func:`gitassist.plan.make_plan`, recorded by :mod:`gitassist.record`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gitassist.applied import AppliedRecord
    from gitassist.index import Index
    from gitassist.problems import Problem


VersionKind = Literal["created", "changed", "recreated"]
NoteKind = Literal["renamed", "format_only", "readded_unchanged", "invalid_skipped", "removed"]


@dataclass(frozen=True)
class NewVersion:
    assistant_id: str
    name: str
    number: int
    commit: str
    path: str
    blob: str
    kind: VersionKind
    previous_path: str | None = None
    recorded: str | None = None  # tag id when an interrupted write already recorded it
    graph_id: str = ""  # the document's (recording writes it in the tag); "": read the blob


@dataclass(frozen=True)
class LatestMove:
    assistant_id: str
    name: str
    old: int | None
    new: int


@dataclass(frozen=True)
class Deletion:
    assistant_id: str
    name: str
    commit: str
    path: str
    last_version: int


@dataclass(frozen=True)
class Note:
    assistant_id: str
    kind: NoteKind
    commit: str
    path: str
    detail: str = ""


@dataclass
class Plan:
    branch: str
    head: str
    applied: AppliedRecord
    commits_walked: int = 0
    versions: list[NewVersion] = field(default_factory=list)
    moves: list[LatestMove] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    index: Index = field(default_factory=dict)
    absent: dict[str, dict[str, str]] = field(default_factory=dict)
    held: bool = False  # a write left invalid documents out: the apply record stays put

    def has_changes(self, prune: bool = False) -> bool:
        return bool(self.versions or self.moves or (prune and self.deletions))

    @property
    def advances(self) -> bool:
        return self.applied.commit != self.head
