"""Committing an assistant write: the writable-branch guard, free file names, validation of
the text about to be committed, and commit-then-record on the tracked branch.

The verbs that use these (create, update, delete) are :mod:`gitassist.assistants`; nothing
here prints or exits.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitassist.checkout import check_write_paths, dirty_paths
from gitassist.commits import make_commit, publish
from gitassist.errors import RepositoryError, ValidationFailed
from gitassist.plan import hold_unrelated, make_plan
from gitassist.record import check_plan, record_updates
from gitassist.repo_state import check_writable
from gitassist.resolve import Resolved, at_tree, from_latest, resolve
from gitassist.store import Entry, is_document
from gitassist.versions import LatestState, max_version, read_latest, read_version

FILE = 0o100644  # the mode of a blob gitassist writes

if TYPE_CHECKING:
    import pygit2
    from pygit2 import Commit, Tree

    from gitassist.documents import AssistantDocument
    from gitassist.store import Store


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the assistant after it, the commit, and the version it makes."""

    assistant: Resolved
    commit: str | None
    recorded: bool
    pending_version: int | None = None
    branch: str | None = None
    changed: bool = True


# --------------------------------------------------------------------------- checking


def check_write(store: Store, text: str, path: str, parent: Commit | None) -> AssistantDocument:
    """Validate a document about to be committed under ``parent``'s own configuration and
    committed schemas (the ones apply will use), not uncommitted edits in the working tree."""
    from gitassist.document_checks import document_problems
    from gitassist.schemas import load_schemas

    project = store.project_at(parent) if parent is not None else store.project
    schemas = load_schemas(store, project, parent.tree if parent is not None else None)
    doc, problems = document_problems(text, path, project, schemas)
    errors = [p for p in problems if p.severity == "error"]
    if errors or doc is None:
        detail = "; ".join(f"{p.json_path}: {p.message}" for p in errors[:3])
        raise ValidationFailed(
            f"invalid assistant: {detail}",
            list(errors),
            hint="nothing was written; fix the values and retry",
        )
    return doc


# --------------------------------------------------------------------------- writing


def writable_branch(store: Store) -> tuple[str, Commit | None]:
    check_writable(store.repo)
    if store.repo.head_is_detached:
        raise RepositoryError(
            "HEAD is detached: gitassist commits to a branch",
            hint="check out a branch first (git switch main)",
        )
    branch = store.current_branch()
    assert branch is not None
    return branch, store.head_commit()


SLUG_MAX = 64  # a file stem well under every file system's limit on a name (255 bytes)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "assistant"


def check_folder(folder: str) -> str:
    """``folder`` (``create --dir``) as a clean relative path under the assistants directory;
    :class:`UsageError` for an absolute path, ``..``, a hidden or empty component."""
    from gitassist.errors import UsageError

    parts = folder.replace("\\", "/").strip("/").split("/")
    bad = [p for p in parts if not p or p.startswith(".") or not p.isprintable()]
    if folder.startswith("/") or bad or len(folder.encode("utf-8")) > 200:
        raise UsageError(
            f"--dir {folder!r} must be a relative folder under the assistants directory "
            "(no leading /, no `..` or hidden parts, at most 200 bytes)"
        )
    return "/".join(parts)


def new_path(
    store: Store,
    name: str,
    tree: Tree | None,
    taken: set[str] | None = None,
    folder: str | None = None,
) -> str:
    """A free file name for a new assistant called ``name`` (``taken``: also avoid these, and
    record the result in it; ``folder``: a subfolder of the assistants directory)."""
    where = f"{store.assistants_dir}/{check_folder(folder)}" if folder else store.assistants_dir
    base = f"{where}/{_slug(name)}"
    taken = taken if taken is not None else set()

    def in_tree(path: str) -> bool:  # a lookup, not a listing of every file
        return tree is not None and store.read_path(tree, path) is not None

    path, n = f"{base}.yaml", 2
    while path in taken or in_tree(path) or os.path.lexists(store.root / path):
        path, n = f"{base}-{n}.yaml", n + 1
    taken.add(path)
    return path


def commit_documents(
    store: Store,
    branch: str,
    parent: Commit | None,
    changes: dict[str, str | None],
    message: str,
    author: pygit2.Signature | None = None,
    reason: str = "update",
    *,
    verify: bool = True,
    documents: dict[str, AssistantDocument] | None = None,
) -> tuple[Commit, bool]:
    """Commit assistant files on ``branch``; on the tracked branch also record their versions.

    Returns the commit and whether versions were recorded. Nothing moves unless everything
    validates: the plan is made and checked on the new commit before the branch moves. The
    files and index go first, then the branch, then a handful of loose refs in order (cost
    independent of the number of assistants), all in one ref transaction; an interruption
    is one the next apply completes (it recognises versions already recorded by their
    commit). With ``verify`` (the default, also for the Python client) the repository's
    ``pre-commit`` and ``commit-msg`` hooks run first (:mod:`gitassist.hooks`);
    ``verify=False`` is ``--no-verify``. A path through a symlink is refused before anything
    moves. ``documents``: the parsed, validated document of each written path (from
    :func:`check_write`): they are neither parsed nor validated again.
    """
    dirty = dirty_paths(store, list(changes), parent)
    if dirty:
        raise RepositoryError(
            f"{', '.join(dirty)} has uncommitted changes",
            hint="commit or stash them first; gitassist only commits the files it changes",
        )
    check_write_paths(store, list(changes))
    blobs: dict[str, str] = {}
    commit = make_commit(store, parent, changes, message, author, hooks=verify, blobs=blobs)
    for path, blob in blobs.items():  # the new commit holds these blobs: no tree lookup later
        store.keep(("holds", str(commit.id), path, blob), True)
    for path, document in (documents or {}).items():
        if path in blobs:
            store.remember(Entry(path, blobs[path]), document)
    if branch != store.tracked_branch():
        publish(store, branch, parent, commit, changes)
        return commit, False
    plan = make_plan(
        store,
        head=commit,
        branch=branch,
        validate=True,
        known=_known_changes(store, parent, changes, blobs),
        checked=set(documents or ()),
    )
    hold_unrelated(store, plan, set(changes))
    check_plan(plan, hint="nothing was written; fix the values and retry")
    updates, _, why = record_updates(
        store, plan, prune=reason == "delete", allow_delete_all=True, reason=reason
    )
    publish(store, branch, parent, commit, changes, then=updates, then_message=why)
    return commit, True


def _known_changes(
    store: Store, parent: Commit | None, changes: dict[str, str | None], blobs: dict[str, str]
) -> tuple[list[Entry], list[Entry]] | None:
    """The commit's (removed, added) assistant files, as a tree diff would list them, from
    what the write changed; None (diff the trees) for a path outside the assistants folder."""
    removed: list[Entry] = []
    added: list[Entry] = []
    for path in changes:
        if not path.startswith(store.assistants_dir + "/") or not is_document(path, FILE):
            return None
        old = None
        if parent is not None:
            try:
                item = parent.tree[path]
            except KeyError:
                item = None
            if item is not None and not is_document(path, item.filemode):
                return None
            old = str(item.id) if item is not None else None
        new = blobs.get(path)
        if old == new:
            continue
        if old is not None:
            removed.append(Entry(path, old))
        if new is not None:
            added.append(Entry(path, new))
    return removed, added


def commit_and_record(
    store: Store,
    branch: str,
    parent: Commit | None,
    changes: dict[str, str | None],
    message: str,
    author: pygit2.Signature | None,
    assistant_id: str,
    reason: str,
    before: LatestState | None,
    verify: bool = True,
    documents: dict[str, AssistantDocument] | None = None,
) -> WriteResult:
    """Commit (and record); ``before``: the latest state read before the write;
    ``documents``: the validated document of each written path (see
    :func:`commit_documents`)."""
    if before is not None:
        # the result names version 1's date: a forged version 1 must stop us before the write
        read_version(store, assistant_id, 1)
    commit, recorded = commit_documents(
        store,
        branch,
        parent,
        changes,
        message,
        author,
        reason,
        verify=verify,
        documents=documents,
    )
    if recorded:
        state = read_latest(store, assistant_id)  # the write moved it: read it once more
        assert state is not None
        if reason == "delete" or not state.deleted:
            return WriteResult(from_latest(store, state), str(commit.id), True, branch=branch)
        return WriteResult(resolve(store, assistant_id), str(commit.id), True, branch=branch)
    pending = max_version(store, assistant_id, before) + 1
    if reason == "delete":
        if before is not None:
            resolved = from_latest(store, before)
        else:
            assert parent is not None
            resolved = at_tree(store, assistant_id, parent)
        return WriteResult(resolved, str(commit.id), False, None, branch)
    return WriteResult(
        at_tree(store, assistant_id, commit, source="unrecorded"),
        str(commit.id),
        False,
        pending,
        branch,
    )
