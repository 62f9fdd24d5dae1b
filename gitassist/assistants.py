"""The assistant write lifecycle on a git repository: create, update, delete, set-latest.

Each function takes a :class:`~gitassist.store.Store` and returns data (frozen records);
nothing here prints or exits. Writes on the tracked branch commit, record the version and
move latest in one step (under the repository's write lock); on any other branch they only
commit and say which version the change will become. Reading and naming assistants is
:mod:`gitassist.resolve`.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitassist.applied import index_at
from gitassist.documents import AssistantDocument, render_new, render_update
from gitassist.edits import edit_context, run_config
from gitassist.errors import Conflict, NotFound, RepositoryError, ValidationFailed
from gitassist.plan import hold_unrelated, make_plan
from gitassist.record import check_plan, execute
from gitassist.resolve import (
    Resolved,
    at_tree,
    from_latest,
    get_version,
    is_uuid,
    resolve,
    resolve_id,
)
from gitassist.schemas import document_schema_ref
from gitassist.store import Entry
from gitassist.versions import (
    LatestState,
    latest_ref,
    make_pointer,
    max_version,
    read_latest,
    read_version,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pygit2
    from pygit2 import Commit, Tree

    from gitassist.refs import RefUpdate
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


def _check_write(store: Store, text: str, path: str, parent: Commit | None) -> AssistantDocument:
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
    store.check_writable()
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
) -> tuple[Commit, bool]:
    """Commit assistant files on ``branch``; on the tracked branch also record their versions.

    Returns the commit and whether versions were recorded. Nothing moves unless everything
    validates: the plan is made and checked on the new commit before the branch moves. The
    files and index go first, then the branch, then a handful of loose refs in order (cost
    independent of the number of assistants); an interruption is one the next apply
    completes (it recognises versions already recorded by their commit). With ``verify``
    (the default, also for the Python client) the repository's ``pre-commit`` and
    ``commit-msg`` hooks run first (:mod:`gitassist.hooks`); ``verify=False`` is
    ``--no-verify``. A path through a symlink is refused before anything moves.
    """
    dirty = store.dirty_paths(list(changes))
    if dirty:
        raise RepositoryError(
            f"{', '.join(dirty)} has uncommitted changes",
            hint="commit or stash them first; gitassist only commits the files it changes",
        )
    store.check_write_paths(list(changes))
    commit = store.make_commit(parent, changes, message, author, hooks=verify)
    if branch != store.tracked_branch():
        store.publish(branch, parent, commit, changes)
        return commit, False
    plan = make_plan(store, head=commit, branch=branch, validate=True)
    hold_unrelated(store, plan, set(changes))
    check_plan(plan, hint="nothing was written; fix the values and retry")
    store.publish(branch, parent, commit, changes)
    execute(
        store, plan, prune=reason == "delete", allow_delete_all=True, reason=reason, atomic=False
    )
    return commit, True


def _commit_and_record(
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
) -> WriteResult:
    """Commit (and record); ``before``: the latest state read before the write."""
    if before is not None:
        # the result names version 1's date: a forged version 1 must stop us before the write
        read_version(store, assistant_id, 1)
    commit, recorded = commit_documents(
        store, branch, parent, changes, message, author, reason, verify=verify
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


def create(
    store: Store,
    graph_id: str,
    *,
    context: dict[str, Any] | None = None,
    set_context: Sequence[tuple[str, Any]] = (),
    config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    assistant_id: str | None = None,
    if_exists: str | None = None,
    author: pygit2.Signature | None = None,
    message: str | None = None,
    folder: str | None = None,
    verify: bool = True,
) -> WriteResult:
    """Create an assistant file, commit it and (on the tracked branch) record version 1.

    ``set_context``: ``(key, value)`` pairs set on ``context`` (see :func:`edit_context`);
    ``folder``: the subfolder of the assistants directory the file goes in."""
    if if_exists not in (None, "raise", "do_nothing"):
        raise ValueError("if_exists must be 'raise' or 'do_nothing'")
    if not store.project.has_graph(graph_id):
        known = ", ".join(sorted(store.project.graphs)) or "none"
        raise NotFound(f"unknown graph_id {graph_id!r}", hint=f"langgraph.json has: {known}")
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        if assistant_id and not is_uuid(assistant_id):
            raise ValidationFailed(f"assistant_id must be a UUID, got {assistant_id!r}", [])
        new_id = str(uuid.UUID(assistant_id)) if assistant_id else str(uuid.uuid4())
        state = read_latest(store, new_id)
        existing = _existing(store, new_id, state, parent)
        if existing is not None:
            if if_exists == "do_nothing":
                return WriteResult(existing, None, False, changed=False, branch=branch)
            raise Conflict(
                f"assistant {new_id} already exists",
                hint='pass if_exists="do_nothing" to get the existing one',
            )
        doc = AssistantDocument(
            assistant_id=new_id,
            graph_id=graph_id,
            name=name or "Untitled",
            description=description,
            context=edit_context(context or {}, set_context) if set_context else context or {},
            config=run_config(config),
            metadata=metadata or {},
        )
        path = new_path(store, doc.name, parent.tree if parent else None, folder=folder)
        text = render_new(doc, schema_ref=document_schema_ref(store.project, path))
        _check_write(store, text, path, parent)
        msg = message or f"Create assistant {doc.name!r} ({graph_id})"
        return _commit_and_record(
            store, branch, parent, {path: text}, msg, author, new_id, "create", state, verify
        )


def _existing(
    store: Store, assistant_id: str, state: LatestState | None, head: Commit | None
) -> Resolved | None:
    if state is not None and not state.deleted:
        return from_latest(store, state)
    if head is not None and assistant_id in index_at(store, head.tree):
        return at_tree(store, assistant_id, head, source="unrecorded")
    return None


def update(
    store: Store,
    target: str,
    *,
    graph_id: str | None = None,
    context: dict[str, Any] | None = None,
    set_context: Sequence[tuple[str, Any]] = (),
    unset_context: Sequence[str] = (),
    config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    author: pygit2.Signature | None = None,
    message: str | None = None,
    verify: bool = True,
) -> WriteResult:
    """A new version with the given fields: context is replaced whole, metadata merged one
    level deep, fields not given carry over (LangGraph's update semantics).

    ``set_context`` / ``unset_context`` edit keys of ``context`` when given, else of the
    context the update starts from (see :func:`edit_context`). The name is resolved once and
    the latest pointer read once before the write."""
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        if parent is None:
            raise NotFound(f"no assistant {target!r}: the repository has no commits yet")
        assistant_id = resolve_id(store, target, parent.tree)
        entry = index_at(store, parent.tree).get(assistant_id)
        if entry is None:
            raise NotFound(
                f"assistant {assistant_id} has no file on {branch}",
                hint="create it first, or switch to the branch that has it",
            )
        on_file = store.document(Entry(entry.path, entry.blob))
        state = read_latest(store, assistant_id)
        tracked = branch == store.tracked_branch()
        current = _update_base(store, state if tracked else None, on_file)
        if graph_id is not None and not store.project.has_graph(graph_id):
            raise NotFound(f"unknown graph_id {graph_id!r}")
        if set_context or unset_context:
            base = context if context is not None else current.context
            context = edit_context(base, set_context, unset_context)
        changes: dict[str, Any] = {}
        if graph_id is not None:
            changes["graph_id"] = graph_id
        if context is not None:
            changes["context"] = context
        if config is not None:
            changes["config"] = run_config(config)
        if metadata is not None:
            changes["metadata"] = {**current.metadata, **metadata}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = description
        new_doc = AssistantDocument.model_validate({**current.model_dump(), **changes})
        if new_doc.content_key() == on_file.content_key():
            if current is not on_file and state is not None:  # rolled back; asked for the newest
                top = max_version(store, assistant_id, state)
                newest = get_version(store, assistant_id, top, top=top)
                if newest.document.content_key() == new_doc.content_key():
                    why = "update to the content of the newest version"
                    resolved = _move_latest(store, assistant_id, state, top, why)
                    return WriteResult(resolved, None, True, branch=branch)
            if state is not None and not state.deleted:
                resolved = from_latest(store, state)
            else:
                resolved = resolve(store, assistant_id)
            return WriteResult(resolved, None, False, changed=False, branch=branch)
        text = render_update(store.blob_text(entry.blob), new_doc)
        _check_write(store, text, entry.path, parent)
        what = ", ".join(sorted(changes)) or "nothing"
        msg = message or f"Update assistant {new_doc.name!r}: {what}"
        return _commit_and_record(
            store,
            branch,
            parent,
            {entry.path: text},
            msg,
            author,
            assistant_id,
            "update",
            state,
            verify,
        )


def _update_base(
    store: Store, state: LatestState | None, on_file: AssistantDocument
) -> AssistantDocument:
    """What an update starts from: as on a LangGraph server, the ACTIVE version (after a
    rollback, not the newest); off the tracked branch (``state`` None), the file there."""
    if state is None or state.deleted or state.version == state.max_version:
        return on_file
    active = from_latest(store, state).document
    return on_file if active.content_key() == on_file.content_key() else active


def delete(
    store: Store,
    target: str,
    *,
    author: pygit2.Signature | None = None,
    message: str | None = None,
    verify: bool = True,
) -> WriteResult:
    """Remove the file in a commit and mark the assistant deleted; its versions stay."""
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        if parent is None:
            raise NotFound(f"no assistant {target!r}")
        assistant_id = resolve_id(store, target, parent.tree)
        entry = index_at(store, parent.tree).get(assistant_id)
        if entry is None:
            raise NotFound(f"assistant {assistant_id} has no file on {branch}")
        doc = store.document(Entry(entry.path, entry.blob))
        msg = message or f"Delete assistant {doc.name!r}"
        state = read_latest(store, assistant_id)
        return _commit_and_record(
            store,
            branch,
            parent,
            {entry.path: None},
            msg,
            author,
            assistant_id,
            "delete",
            state,
            verify,
        )


def set_latest(store: Store, target: str, version: int, *, reason: str | None = None) -> Resolved:
    """Make ``version`` the active one (rollback or roll forward) without touching the branch.

    On a store bound to an environment (``get_client(environment=…)``), moves that
    environment's pointer instead, by :func:`gitassist.promote.promote`'s rules."""
    if isinstance(version, bool) or not isinstance(version, int):  # "1" would look like a bad ref
        raise ValidationFailed(f"version must be an integer, not {version!r}", [])
    if store.environment is not None:
        return _set_environment(store, target, version, reason)
    assistant_id = resolve_id(store, target)
    state = read_latest(store, assistant_id)
    if state is None:
        raise NotFound(
            f"assistant {assistant_id} has no recorded versions",
            hint="record one first (gitassist apply)",
        )
    if state.deleted:
        raise NotFound(f"assistant {assistant_id} was deleted; re-create it to use it again")
    return _move_latest(store, assistant_id, state, version, reason)


def _set_environment(store: Store, target: str, version: int, reason: str | None) -> Resolved:
    from gitassist.promote import promote

    assert store.environment is not None
    environment = store.environment
    promote(store, target, environment, version=version, reason=reason or f"set_latest {version}")
    return resolve(store, target)


def _followers(
    store: Store, assistant_id: str, pointer: str, before: str, why: str
) -> list[RefUpdate]:
    """Environments that follow latest move with it (loose refs written after latest)."""
    from gitassist.environments import declared, follow_updates
    from gitassist.store import ci_context

    envs = declared(store)
    moved: dict[str, tuple[str, str | None]] = {assistant_id: (pointer, before)}
    return follow_updates(store, envs, moved, reason=why, ci=ci_context())


def _move_latest(
    store: Store, assistant_id: str, state: LatestState, version: int, reason: str | None
) -> Resolved:
    """Point latest at ``version``, compare-and-swap against ``state`` (as read)."""
    record = read_version(store, assistant_id, version)
    if record is None:
        raise NotFound(
            f"assistant {assistant_id} has no version {version}: it has versions "
            f"1..{max_version(store, assistant_id, state)}",
            hint="`gitassist versions ID` lists them",
        )
    if state.version == version:
        return from_latest(store, state)
    from gitassist.refs import RefUpdate
    from gitassist.store import ci_context

    doc = store.document(Entry(record.path, record.blob))
    why = reason or f"set-latest {version} (was {state.version})"
    pointer = make_pointer(
        store,
        assistant_id,
        previous=state,
        version=version,
        max_version=max(state.max_version, version),
        tag=record.tag,
        commit=record.commit,
        path=record.path,
        blob=record.blob,
        deleted=False,
        reason=why,
        ci=ci_context(),
        name=doc.name,
    )
    updates = [RefUpdate(latest_ref(assistant_id), pointer, state.pointer)]
    updates += _followers(store, assistant_id, pointer, state.pointer, why)
    store.refdb.update(updates, why, atomic=len(updates) > 1)  # latest and its followers
    new_state = read_latest(store, assistant_id)
    assert new_state is not None
    return from_latest(store, new_state)
