"""Reconcile the tracked branch into versions: what apply would do (recording it is
:mod:`gitassist.record`).

Every commit on the branch's first-parent history since the last apply that changes an
assistant's document (compared parsed, not as bytes) becomes that assistant's next version;
the latest pointer of each changed assistant moves to its newest version; all of it is
committed as one ref update (see :mod:`gitassist.refs`). A rename or a format-only change makes
no version. A removed file is reported, and marked deleted only when pruning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygit2

from gitassist.applied import index_at, read_applied
from gitassist.errors import NotFound
from gitassist.history import (
    MIN_COMMITS,
    PARALLEL_COMMITS,
    BlobFacts,
    Changes,
    first_parent_changes,
    parallel,
    segments,
)
from gitassist.index import Index, IndexEntry, changed_entries, copy_index
from gitassist.plan_records import Deletion, LatestMove, Plan
from gitassist.plan_walk import Walker, first_parent_range
from gitassist.progress import Progress, noop
from gitassist.store import Entry

if TYPE_CHECKING:
    from collections.abc import Collection

    from pygit2 import Commit

    from gitassist.problems import Problem
    from gitassist.store import Store


def make_plan(
    store: Store,
    *,
    head: Commit | None = None,
    branch: str | None = None,
    from_rewritten: bool = False,
    validate: bool = False,
    progress: Progress | None = None,
    known: tuple[list[Entry], list[Entry]] | None = None,
    checked: Collection[str] = (),
) -> Plan:
    """Compare the branch with the recorded refs and say what apply would do; with
    ``validate``, also check the changed documents (under ``head``'s own configuration)
    except the paths in ``checked`` (a write validated them already).
    ``progress`` is told of each commit walked. ``known``: head's own (removed, added)
    assistant files (a write knows them), used instead of a tree diff when head is the one
    commit to walk."""
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
    if known is not None and len(commits) == 1:
        range_removed, range_added = known
    else:
        range_removed, range_added = changed_entries(store, base_tree, head.tree, skipped)
    if skipped:
        from gitassist.store import skipped_warning

        store.warn(skipped_warning(skipped))
    head_entries = {e.blob for e in range_added}
    facts = BlobFacts(store)  # each distinct blob parsed once in this plan
    walker = Walker(store, plan, facts)
    walker.walked = {str(c.id) for c in commits}
    parent: Commit | None = base_commit  # its tree is read only for a per-commit diff
    tell = noop if progress is None else progress
    fast: dict[str, Changes | None] = {}
    if len(commits) >= MIN_COMMITS:  # one `git log --raw`; a long one parses in parallel
        long_walk = len(commits) >= PARALLEL_COMMITS
        bounds = segments([str(c.id) for c in commits], parallel()) if long_walk else []
        fast = first_parent_changes(store, plan.head, stop, facts if long_walk else None, bounds)
    for walked, commit in enumerate(commits, 1):
        found = fast.get(str(commit.id))  # one `git log --raw` for a long walk
        if len(commits) == 1:  # the walk's one diff is the range's diff
            removed, added = range_removed, range_added
        elif found is not None:
            removed, added = found
        else:
            parent_tree = parent.tree if parent is not None else None
            removed, added = changed_entries(store, parent_tree, commit.tree)
        if removed or added:
            walker.step(commit, removed, added, head_entries)
            _apply_changes(facts, index, removed, added)
        parent = commit
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

        to_check = {e.path: e for e in range_added if e.path not in checked}
        for graph_id in _schema_changes(store, base_commit, head):
            for item in index.values():
                if item.graph_id == graph_id:
                    to_check.setdefault(item.path, Entry(item.path, item.blob))
        if to_check:
            plan.problems = entry_problems(store, head, list(to_check.values()))
    plan.problems.extend(_duplicate_ids(store, facts, index, range_added))
    return plan


def _apply_changes(
    facts: BlobFacts, index: Index, removed: list[Entry], added: list[Entry]
) -> None:
    """:func:`gitassist.index.apply_changes`, with the ids from the plan's facts."""
    for entry in removed:
        ids = facts.ids(entry)
        held = index.get(ids[0]) if ids is not None else None
        if held is not None and held.path == entry.path:
            del index[held.assistant_id]
    for entry in added:
        ids = facts.ids(entry)
        if ids is not None and ids[0] not in index:
            index[ids[0]] = IndexEntry(ids[0], entry.path, entry.blob, ids[1])


def _schema_changes(store: Store, old: Commit | None, new: Commit) -> list[str]:
    """Graphs whose committed context schema differs between two commits."""
    from gitassist.schemas import changed_graphs

    new_project = store.project_at(new)
    before = (store.project_at(old) if old is not None else new_project, old.tree if old else None)
    return changed_graphs(store, before, (new_project, new.tree))


def _duplicate_ids(
    store: Store, facts: BlobFacts, index: Index, added: list[Entry]
) -> list[Problem]:
    from gitassist.validation import duplicate_id_problems

    problems = []
    for entry in added:
        ids = facts.ids(entry)
        holder = index.get(ids[0]) if ids is not None else None
        if holder is not None and holder.path != entry.path:
            doc = store.document(entry)
            text = store.blob_text(entry.blob)
            problems += duplicate_id_problems(entry.path, text, doc, [holder.path], None)
    return problems


def _merge_base(store: Store, head: Commit, stop: str) -> str | None:
    if store.repo.get(stop) is None:
        return None
    base = store.repo.merge_base(head.id, stop)
    return str(base) if base is not None else None


def _plan_deletions(store: Store, plan: Plan, walker: Walker) -> None:
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
