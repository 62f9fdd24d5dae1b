"""Resolving assistants: reading the document a name points at, and its versions.

Read-only: each function takes a :class:`~gitassist.store.Store` and returns data (frozen
:class:`Resolved` records or the plain dicts of the LangGraph API); nothing here writes,
prints or exits. An assistant is named by id, graph id (its default assistant), file stem or
unique name (:mod:`gitassist.naming`), optionally with ``@N`` or ``@latest`` (see
:func:`resolve`); searching is :mod:`gitassist.search`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gitassist import naming
from gitassist.applied import index_at
from gitassist.documents import AssistantDocument
from gitassist.errors import NotFound
from gitassist.project import default_assistant_id, init_hint
from gitassist.store import Entry
from gitassist.versions import LatestState, iso, max_version, read_latest, read_version

if TYPE_CHECKING:
    from pygit2 import Commit

    from gitassist.store import Store

Source = Literal["version", "unrecorded", "default", "rev"]


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


def get_version(
    store: Store, assistant_id: str, number: int, *, top: int | None = None
) -> Resolved:
    """Version ``number`` of ``assistant_id`` (``top``: its highest version, when known)."""
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
        max_version=(top if top is not None else max_version(store, assistant_id)) or number,
        author=record.author,
        recorded_by=record.recorded_by,
        ci=record.ci,
    )


def default_resolved(store: Store, graph_id: str, commit: Commit | None) -> Resolved:
    doc = AssistantDocument(
        assistant_id=default_assistant_id(graph_id),
        graph_id=graph_id,
        name=graph_id,
        context={},
        metadata={"created_by": "system"},
    )
    when = iso(_first_commit_time(store, commit))
    return Resolved(doc, 1, "default", str(commit.id) if commit else None, None, None, when, when)


_FIRST_COMMIT: dict[str, tuple[str, int]] = {}  # repository root -> (root commit, its time)


def _first_commit_time(store: Store, commit: Commit | None) -> int:
    """When the history began: a default assistant's created_at, stable across commits."""
    if commit is None:
        return 0
    from gitassist.summary_cache import cache_for

    known = cache_for(store).first_commit_time(str(commit.id))
    if known is not None:
        return known
    found = _walk_first_commit_time(store, commit)
    cache_for(store).set_first_commit_time(str(commit.id), found)
    return found


def _walk_first_commit_time(store: Store, commit: Commit) -> int:
    key = str(store.root)
    cached = _FIRST_COMMIT.get(key)
    if cached is not None:
        root = cached[0]
        if root == str(commit.id) or store.repo.descendant_of(commit.id, root):
            return cached[1]
    import pygit2

    walker = store.repo.walk(commit.id, pygit2.enums.SortMode.NONE)
    walker.simplify_first_parent()
    first = commit
    for first in walker:  # noqa: B007 (the last one is the root)
        pass
    _FIRST_COMMIT[key] = (str(first.id), first.committer.time)
    return first.committer.time


def at_tree(store: Store, assistant_id: str, commit: Commit, source: Source = "rev") -> Resolved:
    """The document of ``assistant_id`` as it is in ``commit``'s tree."""
    index = index_at(store, commit.tree)
    entry = index.get(assistant_id)
    if entry is None:
        for graph_id in store.project.graphs:
            if default_assistant_id(graph_id) == assistant_id:
                return default_resolved(store, graph_id, commit)
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
    name, version = naming.split_target(target)
    if version is None and rev is None and store.environment is not None:
        version = store.environment  # a client bound to an environment reads its pointer
    if rev is not None:
        commit = store.commit(rev)
        if version not in (None, "latest"):
            raise NotFound("use either --rev or @N, not both")
        return at_tree(store, naming.find_id(store, name, commit.tree), commit)
    assistant_id = naming.find_id(store, name)
    if version not in (None, "latest"):
        assert version is not None
        if not version.isdigit():
            return from_latest(store, env_state(store, assistant_id, version))
        # ASCII digits only: int() also reads "١" (Arabic-Indic one) and fails on "²"
        if not (version.isascii() and version.isdigit()) or len(version) > 18 or int(version) < 1:
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
        raise NotFound(
            f"no assistant {target!r}: the repository has no commits yet",
            hint=init_hint(store.root),
        )
    return at_tree(store, assistant_id, head, source="unrecorded")


def env_state(store: Store, assistant_id: str, environment: str) -> LatestState:
    """What a declared environment's pointer holds (``NAME@production``); NotFound for an
    unknown environment, an assistant it does not hold, or a deletion it holds."""
    from gitassist.environments import declared

    envs = declared(store)
    if environment not in envs:
        known = ", ".join(envs) or "none declared"
        raise NotFound(
            f"version must be a positive number, 'latest' or an environment, not "
            f"{environment[:64]!r}",
            hint=f"environments committed on the tracked branch: {known}",
        )
    state = read_latest(store, assistant_id, environment)
    if state is None:
        raise NotFound(
            f"assistant {assistant_id} is not promoted to {environment!r}",
            hint=f"gitassist promote {assistant_id} --to {environment}",
        )
    if state.deleted:
        raise NotFound(f"assistant {assistant_id} is deleted in {environment!r}")
    return state


def version_number(store: Store, assistant_id: str, spec: str) -> int:
    """``3`` -> 3; ``latest`` or an environment's name -> the version its pointer holds."""
    if spec.isascii() and spec.isdigit() and len(spec) <= 18 and int(spec) >= 1:
        return int(spec)
    if spec.isdigit():
        raise NotFound(f"version must be a positive number, not {spec[:20]!r}")
    if spec == "latest":
        state = read_latest(store, assistant_id)
        if state is None or state.deleted:
            raise NotFound(f"assistant {assistant_id} has no active version")
        return state.version
    return env_state(store, assistant_id, spec).version


def get(store: Store, target: str) -> Resolved:
    return resolve(store, target)


def recorded_ids(store: Store, warnings: list[str] | None = None) -> list[str]:
    """Ids of every assistant that has a latest ref; a ref under refs/assistants/ that is not
    one of gitassist's is skipped (and noted in ``warnings``)."""
    from gitassist.versions import parse_ref

    out = []
    for raw in store.repo.raw_listall_references():
        name = raw.decode("utf-8", "replace")
        if not name.startswith("refs/assistants/"):
            continue
        parsed = parse_ref(name)
        if parsed is None:
            if warnings is not None:
                warnings.append(f"skipped {name!r}: not a gitassist ref name")
            continue
        if parsed[0] == "latest":
            out.append(parsed[1])
    return out


def get_versions(store: Store, target: str, *, limit: int = 10, offset: int = 0) -> list[Resolved]:
    """Versions newest first, read straight from their refs (no history walk)."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    assistant_id = naming.resolve_id(store, target)
    top = max_version(store, assistant_id)
    if top == 0:
        resolve(store, assistant_id)  # raises NotFound for an unknown assistant
        return []
    numbers = range(top - offset, max(top - offset - limit, 0), -1)
    return [get_version(store, assistant_id, n, top=top) for n in numbers]
