"""Reconcile the tracked branch into versions: what apply would do, and doing it.

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

from gitassist.errors import Conflict, GitassistError, NotFound, RepositoryError, ValidationFailed
from gitassist.index import (
    Index,
    advance,
    apply_changes,
    changed_entries,
    copy_index,
    full_index,
    read_index,
    write_index,
)
from gitassist.refs import RefUpdate
from gitassist.store import Entry, ci_context
from gitassist.versions import (
    APPLIED_REF,
    LatestState,
    join_message,
    latest_from_pointer,
    latest_ref,
    make_pointer,
    make_version_tag,
    max_version,
    read_latest,
    read_version,
    split_message,
    version_ref,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pygit2 import Commit

    from gitassist.documents import AssistantDocument
    from gitassist.problems import Problem
    from gitassist.store import Store


class HistoryRewritten(RepositoryError):
    code = "history_rewritten"


class ShallowClone(RepositoryError):
    code = "shallow_clone"


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
class AppliedRecord:
    """What ``refs/gitassist/applied`` says; its index is read on first use."""

    pointer: str | None
    commit: str | None
    absent: dict[str, dict[str, str]]
    tree: pygit2.Tree | None = None
    repo: pygit2.Repository | None = None
    _index: Index | None = None

    @property
    def index(self) -> Index:
        """assistant id -> file at the applied commit (do not modify: it is shared)."""
        if self._index is None:
            self._index = (
                read_index(self.repo, self.tree)
                if self.repo is not None and self.tree is not None
                else {}
            )
        return self._index


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

    def has_changes(self, prune: bool = False) -> bool:
        return bool(self.versions or self.moves or (prune and self.deletions))

    @property
    def advances(self) -> bool:
        return self.applied.commit != self.head


# --------------------------------------------------------------------------- reading


def read_applied(store: Store) -> AppliedRecord:
    """The apply record (cached on the store by its id: a record never changes)."""
    oid = store.refdb.read(APPLIED_REF)
    if oid is None:
        return AppliedRecord(None, None, {})
    cached = store.memo.get(("applied", oid))
    if isinstance(cached, AppliedRecord):
        return cached
    commit = store.repo.get(oid)
    if not isinstance(commit, pygit2.Commit):
        raise RepositoryError(f"{APPLIED_REF} does not point at a commit")
    record = AppliedRecord(oid, *applied_fields(commit), commit.tree, store.repo)
    store.memo.clear()
    store.memo[("applied", oid)] = record
    return record


def applied_fields(commit: pygit2.Commit) -> tuple[str | None, dict[str, dict[str, str]]]:
    """The branch commit and the absent map an apply-record commit holds (BadRef if it is not
    one gitassist wrote)."""
    from gitassist.versions import bad_ref

    _, data = split_message(commit.message)
    applied, absent = data.get("commit"), data.get("absent", {})
    if not data or not (applied is None or (isinstance(applied, str) and len(applied) == 40)):
        raise bad_ref(APPLIED_REF, "its commit holds no gitassist apply record")
    if not isinstance(absent, dict) or not all(isinstance(v, dict) for v in absent.values()):
        raise bad_ref(APPLIED_REF, "its apply record's 'absent' is not an object of objects")
    return applied, absent


def index_at(store: Store, tree: pygit2.Tree | None, applied: AppliedRecord | None = None) -> Index:
    """assistant id -> file at ``tree``, from the apply record's index plus a diff."""
    applied = applied if applied is not None else read_applied(store)
    if applied.commit is not None:
        base = store.repo.get(applied.commit)
        if isinstance(base, pygit2.Commit):
            return advance(store, applied.index, base.tree, tree)
    return full_index(store, tree)


def first_parent_range(store: Store, head: Commit, stop: str | None) -> list[Commit]:
    """Commits after ``stop`` up to ``head`` along first parents, oldest first."""
    if stop is not None:
        if str(head.id) == stop:
            return []
        if store.repo.get(stop) is None:
            raise ShallowClone(
                f"the last applied commit {stop[:12]} is not in this clone",
                hint="fetch the full history (GitHub Actions: actions/checkout with "
                "`fetch-depth: 0`), or `git fetch --unshallow`",
            )
        if not store.repo.descendant_of(head.id, stop):
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
            raise ShallowClone(
                "this is a shallow clone: history before "
                f"{str(commit.id)[:12]} is missing, so versions cannot be numbered",
                hint="fetch the full history (GitHub Actions: actions/checkout with "
                "`fetch-depth: 0`), or `git fetch --unshallow`",
            )
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
            raise ShallowClone(
                "this is a shallow clone: history before "
                f"{str(commit.id)[:12]} is missing, so versions cannot be numbered",
                hint="fetch the full history (GitHub Actions: actions/checkout with "
                "`fetch-depth: 0`), or `git fetch --unshallow`",
            )
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
        """Versions an interrupted write recorded but the apply record does not cover yet,
        by commit: the pointer's own version and any version refs above it."""
        if assistant_id not in self.orphans:
            state = self.state(assistant_id)
            top = max_version(self.store, assistant_id, state)
            found: dict[str, tuple[int, str]] = {}
            for n in range(max(state.max_version if state else 1, 1), top + 1):
                record = read_version(self.store, assistant_id, n)
                if record is not None:
                    found[record.commit] = (n, record.tag)
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
    validator: Callable[[Store, pygit2.Tree, list[Entry]], list[Problem]] | None = None,
) -> Plan:
    """Compare the branch with the recorded refs and say what apply would do."""
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
    range_removed, range_added = changed_entries(store, base_tree, head.tree)
    head_entries = {e.blob for e in range_added}
    walker = _Walker(store, plan)
    parent_tree = base_tree
    for commit in commits:
        tree = commit.tree
        if len(commits) == 1:  # the walk's one diff is the range's diff
            removed, added = range_removed, range_added
        else:
            removed, added = changed_entries(store, parent_tree, tree)
        if removed or added:
            walker.step(commit, removed, added, head_entries)
            apply_changes(store, index, removed, added)
        parent_tree = tree
    plan.index = index
    for assistant_id, version in walker.new_latest.items():
        state = walker.state(assistant_id)
        if state is not None and not state.deleted and state.version == version.number:
            continue  # an interrupted write already moved it
        old = None if state is None or state.deleted else state.version
        plan.moves.append(LatestMove(assistant_id, version.name, old, version.number))
    _plan_deletions(store, plan, walker)
    if validator is not None:
        to_check = {e.path: e for e in range_added}
        for graph_id in _schema_changes(store, base_tree, head.tree):
            for item in index.values():
                if item.graph_id == graph_id:
                    to_check.setdefault(item.path, Entry(item.path, item.blob))
        if to_check:
            plan.problems = validator(store, head.tree, list(to_check.values()))
    plan.problems.extend(_duplicate_ids(store, index, range_added))
    return plan


def _schema_changes(store: Store, old: pygit2.Tree | None, new: pygit2.Tree) -> list[str]:
    """Graphs whose committed context schema differs between two trees."""
    from gitassist.validation import schema_path

    project = store.project
    out = []
    for graph_id in project.graphs:
        path = schema_path(project, graph_id)
        before = store.read_path(old, path) if old is not None else None
        if before != store.read_path(new, path):
            out.append(graph_id)
    return out


def _duplicate_ids(store: Store, index: Index, added: list[Entry]) -> list[Problem]:
    from gitassist.problems import Problem

    problems = []
    for entry in added:
        doc = store.blob_info(entry).document
        if doc is None:
            continue
        holder = index.get(doc.assistant_id)
        if holder is not None and holder.path != entry.path:
            problems.append(
                Problem(
                    entry.path,
                    f"assistant_id {doc.assistant_id} is also used by {holder.path}",
                    "$.assistant_id",
                    1,
                    1,
                    code="duplicate_id",
                )
            )
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


# --------------------------------------------------------------------------- applying


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    applied: bool
    pruned: list[Deletion]
    updates: list[RefUpdate] = field(default_factory=list)


def check_plan(plan: Plan) -> None:
    """Refuse a plan whose documents have errors (every problem is listed)."""
    errors = [p for p in plan.problems if p.severity == "error"]
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the documents to apply; nothing was recorded",
            list(errors),
            hint="fix them (gitassist validate shows each) and apply again",
        )


def execute(
    store: Store,
    plan: Plan,
    *,
    prune: bool = False,
    allow_delete_all: bool = False,
    reason: str = "apply",
    atomic: bool = True,
) -> ApplyResult:
    """Record ``plan`` in one ref transaction. Holds the write lock; re-checks under it."""
    check_plan(plan)
    pruned = plan.deletions if prune else []
    if pruned and not allow_delete_all:
        live = len(plan.index)  # loads every shard: only when pruning
        if live == 0:
            raise GitassistError(
                f"refusing to delete all {len(pruned)} assistant(s) at once",
                hint="pass --allow-delete-all if that is really what you want",
            )
    ci = ci_context()
    updates: list[RefUpdate] = []
    with store.refdb.lock():
        current = store.refdb.read(APPLIED_REF)
        if current != plan.applied.pointer:
            raise Conflict("another apply ran since this plan was made", hint="run apply again")
        latest_before: dict[str, LatestState | None] = {}
        tags: dict[tuple[str, int], str] = {}
        for version in plan.versions:
            commit = store.get_commit(version.commit)
            doc = store.blob_info(Entry(version.path, version.blob)).document
            assert doc is not None
            if version.recorded is not None:
                tags[(version.assistant_id, version.number)] = version.recorded
                continue
            tag = make_version_tag(
                store,
                version.assistant_id,
                version.number,
                commit,
                version.path,
                version.blob,
                doc,
                reason,
                ci,
            )
            tags[(version.assistant_id, version.number)] = tag
            # a version ref is written once; its tag records who, when, why and the CI run
            ref = version_ref(version.assistant_id, version.number)
            updates.append(RefUpdate(ref, tag, None, reflog=False))
        newest = {v.assistant_id: v for v in plan.versions}
        moved: dict[str, tuple[str, str | None]] = {}  # id -> (new pointer, old pointer)
        for move in plan.moves:
            version = newest[move.assistant_id]
            state = latest_before.setdefault(
                move.assistant_id, read_latest(store, move.assistant_id)
            )
            pointer = make_pointer(
                store,
                move.assistant_id,
                previous=state,
                version=version.number,
                max_version=version.number,
                tag=tags[(move.assistant_id, version.number)],
                commit=version.commit,
                path=version.path,
                blob=version.blob,
                deleted=False,
                reason=reason,
                ci=ci,
                name=version.name,
            )
            moved[move.assistant_id] = (pointer, state.pointer if state else None)
        absent = dict(plan.absent)
        for deletion in pruned:
            if deletion.assistant_id in moved:  # a new version, then deleted: chain the two
                state = latest_from_pointer(store, moved[deletion.assistant_id][0])
            else:
                state = read_latest(store, deletion.assistant_id)
            assert state is not None
            pointer = make_pointer(
                store,
                deletion.assistant_id,
                previous=state,
                version=state.version,
                max_version=state.max_version,
                tag=state.tag,
                commit=deletion.commit,
                path=deletion.path,
                blob=state.blob,
                deleted=True,
                reason=reason,
                ci=ci,
                name=deletion.name,
            )
            before = moved.get(deletion.assistant_id, (None, state.pointer))[1]
            moved[deletion.assistant_id] = (pointer, before)
            absent.pop(deletion.assistant_id, None)
        for assistant_id, (pointer, before) in moved.items():
            updates.append(RefUpdate(latest_ref(assistant_id), pointer, before))
        if plan.advances or updates or absent != plan.applied.absent:
            updates.append(
                RefUpdate(
                    APPLIED_REF,
                    _applied_commit(store, plan, absent, reason, ci),
                    plan.applied.pointer,
                )
            )
        message = f"gitassist {reason}: {plan.branch} at {plan.head[:12]}"
        store.refdb.update(updates, message, atomic=atomic)
    return ApplyResult(plan, bool(updates), list(pruned), updates)


def _applied_commit(
    store: Store, plan: Plan, absent: dict[str, dict[str, str]], reason: str, ci: dict[str, str]
) -> str:
    repo = store.repo
    tree = write_index(repo, plan.index)
    data = {
        "branch": plan.branch,
        "commit": plan.head,
        "absent": absent,
        "versions": len(plan.versions),
        "reason": reason,
        "ci": ci,
    }
    sig = store.signature()
    parents = [plan.applied.pointer] if plan.applied.pointer else []
    summary = (
        f"gitassist {reason}: {plan.branch} at {plan.head[:12]} ({len(plan.versions)} version(s))"
    )
    return str(repo.create_commit(None, sig, sig, join_message(summary, data), tree, parents))
