"""Reconcile the tracked branch into versions: what apply would do (recording it is
:mod:`gitassist.record`).

Every commit on the branch's first-parent history since the last apply that changes an
assistant's document (compared parsed, not as bytes) becomes that assistant's next version;
the latest pointer of each changed assistant moves to its newest version; all of it is
committed as one ref update (see :mod:`gitassist.refs`). A rename or a format-only change makes
no version. A removed file is reported, and marked deleted only when pruning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pygit2

from gitassist.applied import AppliedRecord, index_at, read_applied
from gitassist.errors import HistoryRewritten, NotFound, ShallowClone
from gitassist.history import MIN_COMMITS, first_parent_changes
from gitassist.index import Index, apply_changes, changed_entries, copy_index
from gitassist.progress import Progress, noop
from gitassist.store import Entry
from gitassist.versions import LatestState, max_version, read_latest, read_version

if TYPE_CHECKING:
    from pygit2 import Commit

    from gitassist.documents import AssistantDocument
    from gitassist.problems import Problem
    from gitassist.store import Store


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


# --------------------------------------------------------------------------- reading


_UNSHALLOW = (
    "fetch the full history (GitHub Actions: actions/checkout with `fetch-depth: 0`), "
    "or `git fetch --unshallow`"
)


def _shallow(commit: Commit) -> ShallowClone:
    return ShallowClone(
        f"this is a shallow clone: history before {str(commit.id)[:12]} is missing, "
        "so versions cannot be numbered",
        hint=_UNSHALLOW,
    )


def first_parent_range(store: Store, head: Commit, stop: str | None) -> list[Commit]:
    """Commits after ``stop`` up to ``head`` along first parents, oldest first."""
    if stop is not None:
        if str(head.id) == stop:
            return []
        if store.repo.get(stop) is None:
            raise ShallowClone(
                f"the last applied commit {stop[:12]} is not in this clone", hint=_UNSHALLOW
            )
        if not store.repo.descendant_of(head.id, stop):
            if store.is_shallow():  # the cut history, not a rewrite, hides the ancestry
                raise ShallowClone(
                    f"this is a shallow clone: the history between {stop[:12]} (last applied) "
                    f"and HEAD {str(head.id)[:12]} is missing",
                    hint=_UNSHALLOW,
                )
            raise HistoryRewritten(
                f"HEAD {str(head.id)[:12]} does not descend from the last applied commit "
                f"{stop[:12]}: the branch was rewritten (rebase or force-push)",
                hint="recorded versions are safe in refs; to continue from HEAD run "
                "`gitassist apply --from-rewritten`",
            )
    shallow = store.shallow_commits()
    out: list[Commit] = []
    commit = head
    while True:
        out.append(commit)
        if str(commit.id) in shallow:
            raise _shallow(commit)
        if not commit.parent_ids:
            if stop is not None:
                raise HistoryRewritten(
                    f"the last applied commit {stop[:12]} is not on the first-parent history "
                    "of HEAD",
                    hint="run `gitassist apply --from-rewritten` to continue from HEAD",
                )
            break
        parent_id = str(commit.parent_ids[0])
        if parent_id == stop:
            break
        if store.repo.get(parent_id) is None:
            raise _shallow(commit)
        commit = store.get_commit(parent_id)
    out.reverse()
    return out


# --------------------------------------------------------------------------- planning


class _Walker:
    """Per-assistant state while walking commits."""

    def __init__(self, store: Store, plan: Plan) -> None:
        self.store = store
        self.plan = plan
        self.next_number: dict[str, int] = {}
        self.last_key: dict[str, str | None] = {}
        self.latest: dict[str, LatestState | None] = {}
        self.new_latest: dict[str, NewVersion] = {}
        self.orphans: dict[str, dict[str, tuple[int, str]]] = {}
        self.walked: set[str] = set()  # the commits of the walk

    def state(self, assistant_id: str) -> LatestState | None:
        if assistant_id not in self.latest:
            self.latest[assistant_id] = read_latest(self.store, assistant_id)
        return self.latest[assistant_id]

    def newest_key(self, assistant_id: str) -> str | None:
        """Content key of the newest recorded (or planned) version."""
        if assistant_id not in self.last_key:
            key = None
            number = max_version(self.store, assistant_id, self.state(assistant_id))
            if number:
                record = read_version(self.store, assistant_id, number)
                if record is not None:
                    doc = self.store.blob_info(Entry(record.path, record.blob)).document
                    key = doc.content_key() if doc is not None else None
            self.last_key[assistant_id] = key
        return self.last_key[assistant_id]

    def interrupted(self, assistant_id: str) -> dict[str, tuple[int, str]]:
        """Versions a write recorded but the apply record does not cover yet, by commit: the
        pointer's own version, any version refs above it, and below it every version of a
        walked commit (writes that held the apply record back, see :func:`hold_unrelated`)."""
        if assistant_id not in self.orphans:
            state = self.state(assistant_id)
            top = max_version(self.store, assistant_id, state)
            found: dict[str, tuple[int, str]] = {}
            floor = max(state.max_version if state else 1, 1)
            for n in range(top, 0, -1):
                record = read_version(self.store, assistant_id, n)
                if record is not None and (n >= floor or record.commit in self.walked):
                    found[record.commit] = (n, record.tag)
                elif n < floor:
                    break
            self.orphans[assistant_id] = found
            self.next_number[assistant_id] = top + 1
        return self.orphans[assistant_id]

    def number(self, assistant_id: str, commit: str) -> tuple[int, str | None]:
        """The version number for ``commit`` and, if it is already recorded, its tag."""
        found = self.interrupted(assistant_id).get(commit)
        if found is not None:
            return found
        n = self.next_number[assistant_id]
        self.next_number[assistant_id] = n + 1
        return n, None

    def record(
        self,
        commit: Commit,
        doc: AssistantDocument,
        entry: Entry,
        kind: VersionKind,
        previous_path: str | None,
    ) -> None:
        number, recorded = self.number(doc.assistant_id, str(commit.id))
        version = NewVersion(
            doc.assistant_id,
            doc.name,
            number,
            str(commit.id),
            entry.path,
            entry.blob,
            kind,
            previous_path,
            recorded,
        )
        self.plan.versions.append(version)
        self.last_key[doc.assistant_id] = doc.content_key()
        self.new_latest[doc.assistant_id] = version

    def step(
        self, commit: Commit, removed: list[Entry], added: list[Entry], head_blobs: set[str]
    ) -> None:
        store = self.store
        cid = str(commit.id)
        old_docs: dict[str, tuple[Entry, AssistantDocument]] = {}
        for entry in removed:
            doc = store.blob_info(entry).document
            if doc is not None:
                old_docs.setdefault(doc.assistant_id, (entry, doc))
        new_docs: dict[str, tuple[Entry, AssistantDocument]] = {}
        for entry in added:
            info = store.blob_info(entry)
            if info.document is None:
                if entry.blob not in head_blobs:
                    self.plan.notes.append(
                        Note(
                            "",
                            "invalid_skipped",
                            cid,
                            entry.path,
                            info.problems[0].message if info.problems else "",
                        )
                    )
                continue
            new_docs.setdefault(info.document.assistant_id, (entry, info.document))
        for assistant_id, (entry, doc) in new_docs.items():
            self.plan.absent.pop(assistant_id, None)
            old = old_docs.get(assistant_id)
            if old is not None:
                old_entry, old_doc = old
                if old_doc.content_key() == doc.content_key():
                    kind: NoteKind = "renamed" if old_entry.path != entry.path else "format_only"
                    self.plan.notes.append(
                        Note(
                            assistant_id,
                            kind,
                            cid,
                            entry.path,
                            old_entry.path if kind == "renamed" else "",
                        )
                    )
                    continue
                self.record(
                    commit,
                    doc,
                    entry,
                    "changed",
                    old_entry.path if old_entry.path != entry.path else None,
                )
                continue
            state = self.state(assistant_id)
            deleted = state is not None and state.deleted
            newest = self.newest_key(assistant_id)
            if newest == doc.content_key() and not deleted:
                self.plan.notes.append(Note(assistant_id, "readded_unchanged", cid, entry.path))
                continue
            kind2: VersionKind = (
                "created" if newest is None else ("recreated" if deleted else "changed")
            )
            self.record(commit, doc, entry, kind2, None)
        for assistant_id, (entry, _doc) in old_docs.items():
            if assistant_id not in new_docs:
                self.plan.absent[assistant_id] = {"commit": cid, "path": entry.path}
                self.plan.notes.append(Note(assistant_id, "removed", cid, entry.path))


def make_plan(
    store: Store,
    *,
    head: Commit | None = None,
    branch: str | None = None,
    from_rewritten: bool = False,
    validate: bool = False,
    progress: Progress | None = None,
) -> Plan:
    """Compare the branch with the recorded refs and say what apply would do; with
    ``validate``, also check the changed documents (under ``head``'s own configuration).
    ``progress`` is told of each commit walked."""
    branch = branch or store.tracked_branch()
    if head is None:
        ref = store.repo.references.get(f"refs/heads/{branch}")
        if ref is None:
            raise NotFound(f"branch {branch!r} does not exist", hint="commit something first")
        head = ref.peel(pygit2.Commit)
    assert head is not None
    applied = read_applied(store)
    plan = Plan(branch=branch, head=str(head.id), applied=applied, absent=dict(applied.absent))
    stop = applied.commit
    if (
        from_rewritten
        and stop is not None
        and (store.repo.get(stop) is None or not store.repo.descendant_of(head.id, stop))
    ):
        base = _merge_base(store, head, stop)
        stop = base
    commits = first_parent_range(store, head, stop)
    plan.commits_walked = len(commits)
    base_commit = store.get_commit(stop) if stop is not None else None
    index = copy_index(
        applied.index
        if stop == applied.commit
        else index_at(store, base_commit.tree if base_commit else None, applied)
    )
    base_tree = base_commit.tree if base_commit else None
    skipped: list[str] = []
    range_removed, range_added = changed_entries(store, base_tree, head.tree, skipped)
    if skipped:
        from gitassist.store import skipped_warning

        store.warn(skipped_warning(skipped))
    head_entries = {e.blob for e in range_added}
    walker = _Walker(store, plan)
    walker.walked = {str(c.id) for c in commits}
    parent_tree = base_tree
    tell = noop if progress is None else progress
    fast = first_parent_changes(store, plan.head, stop) if len(commits) >= MIN_COMMITS else {}
    for walked, commit in enumerate(commits, 1):
        tree = commit.tree
        found = fast.get(str(commit.id))  # one `git log --raw` for a long walk
        if len(commits) == 1:  # the walk's one diff is the range's diff
            removed, added = range_removed, range_added
        elif found is not None:
            removed, added = found
        else:
            removed, added = changed_entries(store, parent_tree, tree)
        if removed or added:
            walker.step(commit, removed, added, head_entries)
            apply_changes(store, index, removed, added)
        parent_tree = tree
        tell("plan", walked, len(commits))
    plan.index = index
    for assistant_id, version in walker.new_latest.items():
        state = walker.state(assistant_id)
        if state is not None and not state.deleted and state.version == version.number:
            continue  # an interrupted write already moved it
        old = None if state is None or state.deleted else state.version
        plan.moves.append(LatestMove(assistant_id, version.name, old, version.number))
    _plan_deletions(store, plan, walker)
    if validate:
        from gitassist.document_checks import entry_problems

        to_check = {e.path: e for e in range_added}
        for graph_id in _schema_changes(store, base_commit, head):
            for item in index.values():
                if item.graph_id == graph_id:
                    to_check.setdefault(item.path, Entry(item.path, item.blob))
        if to_check:
            plan.problems = entry_problems(store, head, list(to_check.values()))
    plan.problems.extend(_duplicate_ids(store, index, range_added))
    return plan


def _schema_changes(store: Store, old: Commit | None, new: Commit) -> list[str]:
    """Graphs whose committed context schema differs between two commits."""
    from gitassist.schemas import changed_graphs

    new_project = store.project_at(new)
    before = (store.project_at(old) if old is not None else new_project, old.tree if old else None)
    return changed_graphs(store, before, (new_project, new.tree))


def _duplicate_ids(store: Store, index: Index, added: list[Entry]) -> list[Problem]:
    from gitassist.validation import duplicate_id_problems

    problems = []
    for entry in added:
        doc = store.blob_info(entry).document
        holder = index.get(doc.assistant_id) if doc is not None else None
        if doc is not None and holder is not None and holder.path != entry.path:
            text = store.blob_text(entry.blob)
            problems += duplicate_id_problems(entry.path, text, doc, [holder.path], None)
    return problems


def _merge_base(store: Store, head: Commit, stop: str) -> str | None:
    if store.repo.get(stop) is None:
        return None
    base = store.repo.merge_base(head.id, stop)
    return str(base) if base is not None else None


def _plan_deletions(store: Store, plan: Plan, walker: _Walker) -> None:
    for assistant_id, where in sorted(plan.absent.items()):
        if assistant_id in plan.index:
            plan.absent.pop(assistant_id)
            continue
        state = walker.state(assistant_id)
        fresh = walker.new_latest.get(assistant_id)
        if fresh is None and (state is None or state.deleted):
            plan.absent.pop(assistant_id)
            continue
        if fresh is not None:
            name, last = fresh.name, fresh.number
        else:
            assert state is not None
            doc = store.blob_info(Entry(state.path, state.blob)).document
            name, last = (doc.name if doc is not None else ""), state.version
        plan.deletions.append(Deletion(assistant_id, name, where["commit"], where["path"], last))


def hold_unrelated(store: Store, plan: Plan, written: set[str]) -> list[Problem]:
    """A write's plan without the documents it did not write that have errors: their
    problems become warnings (returned, and said through ``store.warn``), their assistants'
    versions are left out, and the apply record is held back (``plan.held``) so that the next
    apply walks the same commits again, recognises what the write recorded, and refuses until
    those documents are fixed. Errors in written files stay (the caller refuses the write)."""
    unrelated = [p for p in plan.problems if p.severity == "error" and p.file not in written]
    if not unrelated:
        return []
    bad_paths = {p.file for p in unrelated}
    bad_ids = {v.assistant_id for v in plan.versions if v.path in bad_paths}
    if any(v.path in written for v in plan.versions if v.assistant_id in bad_ids):
        return []  # e.g. a duplicate of the written assistant's id: the write is refused
    plan.problems = [p for p in plan.problems if p not in unrelated]
    plan.versions = [v for v in plan.versions if v.assistant_id not in bad_ids]
    plan.moves = [m for m in plan.moves if m.assistant_id not in bad_ids]
    plan.deletions = [d for d in plan.deletions if d.assistant_id not in bad_ids]
    plan.held = True
    for problem in unrelated:
        store.warn(
            f"{problem.where()}: {problem.message} (not recorded: `gitassist apply` refuses "
            "until it is fixed; this write does not depend on it)"
        )
    return unrelated
