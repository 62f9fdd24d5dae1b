"""The assistant lifecycle on a git repository: create, get, update, delete, search, versions.

Each function takes a :class:`~gitassist.store.Store` and returns data (frozen records or the
plain dicts of the LangGraph API); nothing here prints or exits. Writes on the tracked branch
commit, record the version and move latest in one step (under the repository's write lock);
on any other branch they only commit and say which version the change will become.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gitassist.documents import AssistantDocument, RunConfig, render_new, render_update
from gitassist.errors import Conflict, NotFound, RepositoryError, ValidationFailed
from gitassist.plan import check_plan, execute, index_at, make_plan, read_applied
from gitassist.project import default_assistant_id
from gitassist.store import Entry
from gitassist.validation import SchemaSet, document_problems, load_schema_text, schema_path
from gitassist.versions import (
    LatestState,
    iso,
    latest_ref,
    make_pointer,
    max_version,
    read_latest,
    read_version,
)

if TYPE_CHECKING:
    import pygit2
    from pygit2 import Commit, Tree

    from gitassist.index import IndexEntry
    from gitassist.problems import Problem
    from gitassist.store import Store

Source = Literal["version", "unrecorded", "default", "rev"]
SORT_KEYS = ("assistant_id", "created_at", "updated_at", "name", "graph_id")


@dataclass(frozen=True)
class Resolved:
    """An assistant resolved to one document, with its provenance."""

    document: AssistantDocument
    version: int | None
    source: Source
    commit: str | None
    path: str | None
    blob: str | None
    created_at: str
    updated_at: str
    max_version: int = 0
    author: str = ""
    recorded_by: str = ""
    ci: dict[str, str] = field(default_factory=dict)

    @property
    def assistant_id(self) -> str:
        return self.document.assistant_id

    def to_api(self) -> dict[str, Any]:
        """The assistant as the LangGraph API returns it."""
        data = self.document.canonical()
        return {
            "assistant_id": data["assistant_id"],
            "graph_id": data["graph_id"],
            "config": data["config"],
            "context": data["context"],
            "metadata": data["metadata"],
            "name": data["name"],
            "description": data["description"],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version if self.version is not None else 1,
        }

    def to_version_row(self) -> dict[str, Any]:
        row = self.to_api()
        del row["updated_at"]
        return row

    def provenance(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "version": self.version,
            "commit": self.commit,
            "path": self.path,
            "blob": self.blob,
            "author": self.author,
            "recorded_by": self.recorded_by,
            "ci": self.ci,
        }


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the assistant after it, the commit, and the version it makes."""

    assistant: Resolved
    commit: str | None
    recorded: bool
    pending_version: int | None = None
    branch: str | None = None
    changed: bool = True


# --------------------------------------------------------------------------- naming


def split_target(target: str) -> tuple[str, str | None]:
    """``name@3`` -> ("name", "3"); ``name@latest`` -> ("name", "latest")."""
    if "@" in target:
        name, _, version = target.rpartition("@")
        return name, version
    return target, None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def find_id(store: Store, name: str, tree: Tree | None = None) -> str:
    """An assistant id from an id, a graph id, a file stem or a unique name."""
    if _is_uuid(name):
        return str(uuid.UUID(name))
    if store.project.has_graph(name):
        return default_assistant_id(name)
    head = store.head_commit()
    tree = tree if tree is not None else (head.tree if head is not None else None)
    base = store.assistants_dir
    for suffix in (".yaml", ".yml"):
        path = name if name.endswith(suffix) else f"{base}/{name}{suffix}"
        entry = store.entries(tree).get(path) if tree is not None else None
        if entry is not None:
            doc = store.blob_info(entry).document
            if doc is not None:
                return doc.assistant_id
    index = index_at(store, tree)
    matches = [e for e in index.values() if _name_of(store, e) == name]
    if len(matches) == 1:
        return matches[0].assistant_id
    if len(matches) > 1:
        raise Conflict(
            f"{len(matches)} assistants are named {name!r}",
            hint="name it by id or file stem: " + ", ".join(m.path for m in matches),
        )
    raise NotFound(
        f"no assistant {name!r}",
        hint="name an assistant by id, graph id, file stem or unique name; "
        "`gitassist list` shows them",
    )


def _name_of(store: Store, entry: IndexEntry) -> str | None:
    doc = store.blob_info(Entry(entry.path, entry.blob)).document
    return doc.name if doc is not None else None


# --------------------------------------------------------------------------- reading


def _created_at(store: Store, assistant_id: str, fallback: int) -> str:
    first = read_version(store, assistant_id, 1)
    return iso(first.committed_at if first is not None else fallback)


def from_latest(store: Store, state: LatestState) -> Resolved:
    record = read_version(store, state.assistant_id, state.version)
    doc = store.document(
        Entry(
            state.path if record is None else record.path,
            state.blob if record is None else record.blob,
        )
    )
    return Resolved(
        document=doc,
        version=state.version,
        source="version",
        commit=record.commit if record else state.commit,
        path=record.path if record else state.path,
        blob=record.blob if record else state.blob,
        created_at=_created_at(store, state.assistant_id, state.moved_at),
        updated_at=iso(state.moved_at),
        max_version=state.max_version,
        author=record.author if record else "",
        recorded_by=record.recorded_by if record else "",
        ci=record.ci if record else {},
    )


def get_version(store: Store, assistant_id: str, number: int) -> Resolved:
    record = read_version(store, assistant_id, number)
    if record is None:
        top = max_version(store, assistant_id)
        have = f"it has versions 1..{top}" if top else "it has no recorded versions"
        raise NotFound(
            f"assistant {assistant_id} has no version {number}: {have}",
            hint="`gitassist versions ID` lists them",
        )
    doc = store.document(Entry(record.path, record.blob))
    return Resolved(
        document=doc,
        version=number,
        source="version",
        commit=record.commit,
        path=record.path,
        blob=record.blob,
        created_at=iso(record.committed_at),
        updated_at=iso(record.committed_at),
        max_version=top if (top := max_version(store, assistant_id)) else number,
        author=record.author,
        recorded_by=record.recorded_by,
        ci=record.ci,
    )


def _default(store: Store, graph_id: str, commit: Commit | None) -> Resolved:
    doc = AssistantDocument(
        assistant_id=default_assistant_id(graph_id),
        graph_id=graph_id,
        name=graph_id,
        context={},
        metadata={"created_by": "system"},
    )
    when = iso(commit.committer.time if commit is not None else 0)
    return Resolved(doc, 1, "default", str(commit.id) if commit else None, None, None, when, when)


def at_tree(store: Store, assistant_id: str, commit: Commit, source: Source = "rev") -> Resolved:
    """The document of ``assistant_id`` as it is in ``commit``'s tree."""
    index = index_at(store, commit.tree)
    entry = index.get(assistant_id)
    if entry is None:
        for graph_id in store.project.graphs:
            if default_assistant_id(graph_id) == assistant_id:
                return _default(store, graph_id, commit)
        raise NotFound(f"assistant {assistant_id} is not in {str(commit.id)[:12]}")
    rev = str(commit.id)[:12] if source == "rev" else None
    doc = store.document(Entry(entry.path, entry.blob), rev)
    when = iso(commit.committer.time)
    return Resolved(
        doc,
        None,
        source,
        str(commit.id),
        entry.path,
        entry.blob,
        when,
        when,
        author=f"{commit.author.name} <{commit.author.email}>",
    )


def resolve(store: Store, target: str, *, rev: str | None = None) -> Resolved:
    """``id``, ``graph_id``, ``stem``, ``name``, each optionally ``@N`` or ``@latest``.

    With ``rev``, the document as it is at that revision. Without, the active version; an
    assistant with no recorded version yet (a new file, a feature branch) resolves to HEAD.
    """
    name, version = split_target(target)
    if rev is not None:
        commit = store.commit(rev)
        if version not in (None, "latest"):
            raise NotFound("use either --rev or @N, not both")
        return at_tree(store, find_id(store, name, commit.tree), commit)
    assistant_id = find_id(store, name)
    if version not in (None, "latest"):
        assert version is not None
        if not version.isdigit() or int(version) < 1:
            raise NotFound(f"version must be a positive number or 'latest', not {version!r}")
        return get_version(store, assistant_id, int(version))
    state = read_latest(store, assistant_id)
    if state is not None:
        if state.deleted:
            raise NotFound(
                f"assistant {assistant_id} was deleted (at commit {state.commit[:12]})",
                hint=f"its versions are still readable: `gitassist versions {assistant_id}`",
            )
        return from_latest(store, state)
    head = store.head_commit()
    if head is None:
        raise NotFound(f"no assistant {target!r}: the repository has no commits yet")
    return at_tree(store, assistant_id, head, source="unrecorded")


def get(store: Store, target: str) -> Resolved:
    return resolve(store, target)


def recorded_ids(store: Store) -> list[str]:
    """Ids of every assistant that has a latest ref."""
    out = []
    for raw in store.repo.raw_listall_references():
        name = raw.decode("utf-8", "replace")
        if name.startswith("refs/assistants/") and name.endswith("/latest"):
            out.append(name.split("/")[2])
    return out


def search(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    limit: int = 10,
    offset: int = 0,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> list[Resolved]:
    """Active assistants (plus each graph's default), filtered like the LangGraph API."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_KEYS)}")
    found = _all_active(store)
    items = [
        r
        for r in found
        if (graph_id is None or r.document.graph_id == graph_id)
        and (name is None or name.lower() in r.document.name.lower())
        and (metadata is None or _contains(r.document.metadata, metadata))
    ]
    key = sort_by or "created_at"
    items.sort(
        key=lambda r: (str(r.to_api()[key]), r.assistant_id),
        reverse=(sort_order or "desc") == "desc",
    )
    return items[offset : offset + limit]


def count(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
) -> int:
    return len(search(store, graph_id=graph_id, metadata=metadata, name=name, limit=10**9))


def _contains(have: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(k in have and have[k] == v for k, v in want.items())


def _all_active(store: Store) -> list[Resolved]:
    out: dict[str, Resolved] = {}
    for assistant_id in recorded_ids(store):
        state = read_latest(store, assistant_id)
        if state is not None and not state.deleted:
            out[assistant_id] = from_latest(store, state)
    head = store.head_commit()
    if head is not None:
        for assistant_id in index_at(store, head.tree):
            if assistant_id not in out:
                out[assistant_id] = at_tree(store, assistant_id, head, source="unrecorded")
    for graph_id in store.project.graphs:
        default_id = default_assistant_id(graph_id)
        if default_id not in out:
            out[default_id] = _default(store, graph_id, head)
    return list(out.values())


def get_versions(store: Store, target: str, *, limit: int = 10, offset: int = 0) -> list[Resolved]:
    """Versions newest first, read straight from their refs (no history walk)."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    assistant_id = find_id(store, split_target(target)[0])
    top = max_version(store, assistant_id)
    if top == 0:
        resolve(store, assistant_id)  # raises NotFound for an unknown assistant
        return []
    numbers = range(top - offset, max(top - offset - limit, 0), -1)
    return [get_version(store, assistant_id, n) for n in numbers]


# --------------------------------------------------------------------------- validation


def schema_set(store: Store, tree: Tree | None = None) -> SchemaSet:
    """Committed context schemas (from ``tree``, else the working tree)."""
    schemas: dict[str, dict[str, Any]] = {}
    project = store.project
    for graph_id in project.graphs:
        path = schema_path(project, graph_id)
        if tree is not None:
            text = store.read_path(tree, path)
        else:
            file = store.root / path
            text = file.read_text(encoding="utf-8") if file.is_file() else None
        if text is not None:
            schemas[graph_id] = load_schema_text(text, path)
    return SchemaSet(schemas)


def validate_entries(store: Store, tree: Tree, entries: list[Entry]) -> list[Problem]:
    """Problems of the given files at ``tree`` (the validator apply uses)."""
    schemas = schema_set(store, tree)
    problems: list[Problem] = []
    for entry in entries:
        _, found = document_problems(
            store.document_text(entry.blob), entry.path, store.project, schemas
        )
        problems.extend(found)
    return problems


def _check_write(store: Store, text: str, path: str, parent: Commit | None) -> AssistantDocument:
    """Validate a document about to be committed, against the schemas committed at ``parent``
    (the ones apply will use), not uncommitted edits in the working tree."""
    schemas = schema_set(store, parent.tree if parent is not None else None)
    doc, problems = document_problems(text, path, store.project, schemas)
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
    if store.repo.head_is_detached:
        raise RepositoryError(
            "HEAD is detached: gitassist commits to a branch",
            hint="check out a branch first (git switch main)",
        )
    branch = store.current_branch()
    assert branch is not None
    return branch, store.head_commit()


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "assistant"


def new_path(store: Store, name: str, tree: Tree | None, taken: set[str] | None = None) -> str:
    """A free file name for a new assistant called ``name`` (``taken``: also avoid these, and
    record the result in it)."""
    base = f"{store.assistants_dir}/{_slug(name)}"
    taken = taken if taken is not None else set()

    def in_tree(path: str) -> bool:  # a lookup, not a listing of every file
        return tree is not None and store.read_path(tree, path) is not None

    path, n = f"{base}.yaml", 2
    while path in taken or in_tree(path) or (store.root / path).exists():
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
) -> tuple[Commit, bool]:
    """Commit assistant files on ``branch``; on the tracked branch also record their versions.

    Returns the commit and whether versions were recorded. Nothing moves unless everything
    validates: the plan is made and checked on the new commit before the branch moves. The
    files and index go first, then the branch, then a handful of loose refs in order (cost
    independent of the number of assistants); an interruption is one the next apply
    completes (it recognises versions already recorded by their commit).
    """
    dirty = store.dirty_paths(list(changes))
    if dirty:
        raise RepositoryError(
            f"{', '.join(dirty)} has uncommitted changes",
            hint="commit or stash them first; gitassist only commits the files it changes",
        )
    commit = store.make_commit(parent, changes, message, author)
    if branch != store.tracked_branch():
        store.publish(branch, parent, commit, changes)
        return commit, False
    plan = make_plan(store, head=commit, branch=branch, validator=validate_entries)
    check_plan(plan)
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
) -> WriteResult:
    commit, recorded = commit_documents(store, branch, parent, changes, message, author, reason)
    if recorded:
        if reason == "delete":
            state = read_latest(store, assistant_id)
            assert state is not None
            return WriteResult(from_latest(store, state), str(commit.id), True, branch=branch)
        return WriteResult(resolve(store, assistant_id), str(commit.id), True, branch=branch)
    pending = max_version(store, assistant_id) + 1
    if reason == "delete":
        state = read_latest(store, assistant_id)
        resolved = from_latest(store, state) if state else at_tree(store, assistant_id, parent)  # type: ignore[arg-type]
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
    config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    assistant_id: str | None = None,
    if_exists: str | None = None,
    author: pygit2.Signature | None = None,
    message: str | None = None,
) -> WriteResult:
    """Create an assistant file, commit it and (on the tracked branch) record version 1."""
    if if_exists not in (None, "raise", "do_nothing"):
        raise ValueError("if_exists must be 'raise' or 'do_nothing'")
    if not store.project.has_graph(graph_id):
        known = ", ".join(sorted(store.project.graphs)) or "none"
        raise NotFound(f"unknown graph_id {graph_id!r}", hint=f"langgraph.json has: {known}")
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        if assistant_id and not _is_uuid(assistant_id):
            raise ValidationFailed(f"assistant_id must be a UUID, got {assistant_id!r}", [])
        new_id = str(uuid.UUID(assistant_id)) if assistant_id else str(uuid.uuid4())
        existing = _existing(store, new_id, parent)
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
            context=context or {},
            config=_run_config_model(config),
            metadata=metadata or {},
        )
        path = new_path(store, doc.name, parent.tree if parent else None)
        text = render_new(
            doc, schema_ref=f"../{store.project.settings.schemas_dir}/assistant.schema.json"
        )
        _check_write(store, text, path, parent)
        msg = message or f"Create assistant {doc.name!r} ({graph_id})"
        return _commit_and_record(
            store, branch, parent, {path: text}, msg, author, new_id, "create"
        )


def _existing(store: Store, assistant_id: str, head: Commit | None) -> Resolved | None:
    state = read_latest(store, assistant_id)
    if state is not None and not state.deleted:
        return from_latest(store, state)
    if head is not None and assistant_id in index_at(store, head.tree):
        return at_tree(store, assistant_id, head, source="unrecorded")
    return None


def _run_config(config: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(config or {})
    if config.get("configurable"):
        raise ValidationFailed(
            "config.configurable is not stored: put those values in context",
            [],
            hint="LangGraph reads assistant values from context; see docs/format.md",
        )
    config.pop("configurable", None)
    return config


def _run_config_model(config: dict[str, Any] | None) -> RunConfig:
    from pydantic import ValidationError

    try:
        return RunConfig.model_validate(_run_config(config))
    except ValidationError as exc:
        detail = "; ".join(
            f"config.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationFailed(
            f"invalid config: {detail}",
            [],
            hint='config takes {"tags": [str, ...], "recursion_limit": int >= 1}',
        ) from None


def update(
    store: Store,
    target: str,
    *,
    graph_id: str | None = None,
    context: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    author: pygit2.Signature | None = None,
    message: str | None = None,
) -> WriteResult:
    """A new version with the given fields: context is replaced whole, metadata merged one
    level deep, fields not given carry over (LangGraph's update semantics)."""
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        if parent is None:
            raise NotFound(f"no assistant {target!r}: the repository has no commits yet")
        assistant_id = find_id(store, split_target(target)[0], parent.tree)
        entry = index_at(store, parent.tree).get(assistant_id)
        if entry is None:
            raise NotFound(
                f"assistant {assistant_id} has no file on {branch}",
                hint="create it first, or switch to the branch that has it",
            )
        on_file = store.document(Entry(entry.path, entry.blob))
        current = update_base(store, assistant_id, branch, on_file)
        if graph_id is not None and not store.project.has_graph(graph_id):
            raise NotFound(f"unknown graph_id {graph_id!r}")
        changes: dict[str, Any] = {}
        if graph_id is not None:
            changes["graph_id"] = graph_id
        if context is not None:
            changes["context"] = context
        if config is not None:
            changes["config"] = _run_config_model(config)
        if metadata is not None:
            changes["metadata"] = {**current.metadata, **metadata}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = description
        new_doc = AssistantDocument.model_validate({**current.model_dump(), **changes})
        if new_doc.content_key() == on_file.content_key():
            if current is not on_file:  # rolled back; asked for what the branch holds
                newest = get_version(store, assistant_id, max_version(store, assistant_id))
                if newest.document.content_key() == new_doc.content_key():
                    resolved = set_latest(
                        store,
                        assistant_id,
                        newest.version or 1,
                        reason="update to the content of the newest version",
                    )
                    return WriteResult(resolved, None, True, branch=branch)
            resolved = resolve(store, assistant_id)
            return WriteResult(resolved, None, False, changed=False, branch=branch)
        text = render_update(store.blob_text(entry.blob), new_doc)
        _check_write(store, text, entry.path, parent)
        what = ", ".join(sorted(changes)) or "nothing"
        msg = message or f"Update assistant {new_doc.name!r}: {what}"
        return _commit_and_record(
            store, branch, parent, {entry.path: text}, msg, author, assistant_id, "update"
        )


def update_base(
    store: Store, assistant_id: str, branch: str, on_file: AssistantDocument
) -> AssistantDocument:
    """What an update starts from: as on a LangGraph server, the ACTIVE version (after a
    rollback, not the newest); off the tracked branch, the file on that branch."""
    if branch != store.tracked_branch():
        return on_file
    state = read_latest(store, assistant_id)
    if state is None or state.deleted or state.version == state.max_version:
        return on_file
    active = from_latest(store, state).document
    return on_file if active.content_key() == on_file.content_key() else active


def delete(
    store: Store, target: str, *, author: pygit2.Signature | None = None, message: str | None = None
) -> WriteResult:
    """Remove the file in a commit and mark the assistant deleted; its versions stay."""
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        if parent is None:
            raise NotFound(f"no assistant {target!r}")
        assistant_id = find_id(store, split_target(target)[0], parent.tree)
        entry = index_at(store, parent.tree).get(assistant_id)
        if entry is None:
            raise NotFound(f"assistant {assistant_id} has no file on {branch}")
        doc = store.document(Entry(entry.path, entry.blob))
        msg = message or f"Delete assistant {doc.name!r}"
        return _commit_and_record(
            store, branch, parent, {entry.path: None}, msg, author, assistant_id, "delete"
        )


def set_latest(store: Store, target: str, version: int, *, reason: str | None = None) -> Resolved:
    """Make ``version`` the active one (rollback or roll forward) without touching the branch."""
    assistant_id = find_id(store, split_target(target)[0])
    state = read_latest(store, assistant_id)
    if state is None:
        raise NotFound(
            f"assistant {assistant_id} has no recorded versions",
            hint="record one first (gitassist apply)",
        )
    if state.deleted:
        raise NotFound(f"assistant {assistant_id} was deleted; re-create it to use it again")
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
    store.refdb.update([RefUpdate(latest_ref(assistant_id), pointer, state.pointer)], why)
    new_state = read_latest(store, assistant_id)
    assert new_state is not None
    return from_latest(store, new_state)


def applied_commit(store: Store) -> str | None:
    return read_applied(store).commit
