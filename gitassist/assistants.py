"""The assistant write lifecycle on a git repository: create, update, delete, set-latest.

Each function takes a :class:`~gitassist.store.Store` and returns data (frozen records);
nothing here prints or exits. Writes on the tracked branch commit, record the version and
move latest in one step (under the repository's write lock); on any other branch they only
commit and say which version the change will become. Reading and naming assistants is
:mod:`gitassist.resolve`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from gitassist.applied import index_at
from gitassist.documents import AssistantDocument, render_new
from gitassist.edits import edit_context, run_config
from gitassist.errors import Conflict, NotFound, ValidationFailed
from gitassist.naming import is_uuid, resolve_id
from gitassist.project import init_hint
from gitassist.resolve import Resolved, at_tree, from_latest, get_version, resolve
from gitassist.schemas import document_schema_ref
from gitassist.store import Entry
from gitassist.version_write import make_pointer
from gitassist.versions import (
    LatestState,
    latest_ref,
    max_version,
    read_latest,
    read_version,
    recorded_latest,
)
from gitassist.write_commit import (
    WriteResult,
    check_write,
    commit_and_record,
    new_path,
    writable_branch,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pygit2
    from pygit2 import Commit

    from gitassist.refs import RefUpdate
    from gitassist.store import Store


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
        hint = init_hint(store.root, f"langgraph.json has: {known}")
        raise NotFound(f"unknown graph_id {graph_id!r}", hint=hint)
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
        text = _render_new(doc, document_schema_ref(store.project, path))
        checked = check_write(store, text, path, parent)
        msg = message or f"Create assistant {doc.name!r} ({graph_id})"
        return commit_and_record(
            store,
            branch,
            parent,
            {path: text},
            msg,
            author,
            new_id,
            "create",
            state,
            verify,
            documents={path: checked},
        )


def _render_new(doc: AssistantDocument, schema_ref: str | None) -> str:
    """:func:`render_new`'s text; written directly when it is certain (plain values)."""
    from gitassist.documents import SCHEMA_COMMENT, document_fields
    from gitassist.splice import render_plain

    body = render_plain(document_fields(doc))
    if body is None:
        return render_new(doc, schema_ref=schema_ref)
    return (SCHEMA_COMMENT.format(schema=schema_ref) if schema_ref else "") + body


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
            raise NotFound(
                f"no assistant {target!r}: the repository has no commits yet",
                hint=init_hint(store.root),
            )
        assistant_id = resolve_id(store, target, parent.tree)
        entry = index_at(store, parent.tree).get(assistant_id)
        if entry is None:
            raise NotFound(
                f"assistant {assistant_id} has no file on {branch}",
                hint="create it first, or switch to the branch that has it",
            )
        on_file, old_text, old_data = _on_file(store, Entry(entry.path, entry.blob))
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
        new_key = new_doc.content_key()
        if new_key == on_file.content_key():
            if current is not on_file and state is not None:  # rolled back; asked for the newest
                top = max_version(store, assistant_id, state)
                newest = get_version(store, assistant_id, top, top=top)
                if newest.document.content_key() == new_key:
                    why = "update to the content of the newest version"
                    resolved = _move_latest(store, assistant_id, state, top, why)
                    return WriteResult(resolved, None, True, branch=branch)
            if state is not None and not state.deleted:
                resolved = from_latest(store, state)
            else:
                resolved = resolve(store, assistant_id)
            return WriteResult(resolved, None, False, changed=False, branch=branch)
        text, checked = _render_checked(
            store, entry.path, new_doc, new_key, parent, old_text, old_data
        )
        what = ", ".join(sorted(changes)) or "nothing"
        msg = message or f"Update assistant {new_doc.name!r}: {what}"
        return commit_and_record(
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
            documents={entry.path: checked},
        )


def _on_file(store: Store, entry: Entry) -> tuple[AssistantDocument, str, Any]:
    """The document an update starts from, its text and the data it parses to, parsed once
    (the splice needs the data too); a file that does not parse or validate is refused by
    :meth:`Store.document`, with its usual message."""
    from pydantic import ValidationError

    from gitassist.documents import load_yaml_data
    from gitassist.errors import DocumentError

    text = store.document_text(entry.blob)
    try:
        data = load_yaml_data(text, entry.path)
        document = AssistantDocument.model_validate(data)  # as check_document validates it
    except (DocumentError, ValidationError):
        return store.document(entry), text, None  # raises
    store.remember(entry, document)
    return document, text, data


def _render_checked(
    store: Store,
    path: str,
    new_doc: AssistantDocument,
    new_key: str,
    parent: Commit,
    old_text: str,
    old_data: Any,
) -> tuple[str, AssistantDocument]:
    """The file's new text and its validated document: the changed scalars spliced into the
    text where they stand when the change is only that (and it reads back as ``new_doc``,
    whose content key is ``new_key``), else ruamel's round trip (:func:`round_trip`).
    ``old_text`` parses to ``old_data``. The new text is parsed and validated once
    (:func:`check_write`); a splice that does not read back costs one more."""
    from gitassist.documents import document_fields
    from gitassist.splice import round_trip, splice

    try:
        text = splice(old_text, old_data, document_fields(new_doc))
    except Exception:
        text = None
    if text is not None:
        try:
            checked = check_write(store, text, path, parent)
        except ValidationFailed:  # the round trip's text says so too (or the splice erred)
            checked = None
        if checked is not None and checked.content_key() == new_key:
            return text, checked
    text = round_trip(old_text, new_doc)
    return text, check_write(store, text, path, parent)


def plainly_recorded(store: Store, target: str) -> bool:
    """Whether ``target`` is an assistant's own id with a live latest pointer (so not a
    default assistant): :func:`update` resolves it itself, nothing needs to first."""
    if store.environment is not None or not is_uuid(target) or str(uuid.UUID(target)) != target:
        return False
    from gitassist.project import default_assistant_id

    if any(default_assistant_id(graph) == target for graph in store.project.graphs):
        return False
    state = read_latest(store, target)
    return state is not None and not state.deleted


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
        return commit_and_record(
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
    with store.refdb.thread_lock():  # this process's moves queue: none loses to another
        state = recorded_latest(store, assistant_id)
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
    from gitassist.actor import ci_context
    from gitassist.environments import declared, follow_updates

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
    from gitassist.actor import ci_context
    from gitassist.refs import RefUpdate

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
