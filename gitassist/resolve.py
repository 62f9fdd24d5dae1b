"""Resolving assistants: names to ids and versions, reading documents, search and versions.

Read-only: each function takes a :class:`~gitassist.store.Store` and returns data (frozen
:class:`Resolved` records or the plain dicts of the LangGraph API); nothing here writes,
prints or exits. An assistant is named by id, graph id (its default assistant), file stem or
unique name, optionally with ``@N`` or ``@latest`` (see :func:`resolve`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from gitassist.applied import index_at
from gitassist.documents import AssistantDocument
from gitassist.errors import Conflict, NotFound
from gitassist.project import default_assistant_id
from gitassist.store import Entry
from gitassist.versions import LatestState, iso, max_version, read_latest, read_version

if TYPE_CHECKING:
    from collections.abc import Callable

    from pygit2 import Commit, Tree

    from gitassist import summary, summary_refs
    from gitassist.index import IndexEntry
    from gitassist.store import Store
    from gitassist.summary_cache import Summary

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


# --------------------------------------------------------------------------- naming


def split_target(target: str) -> tuple[str, str | None]:
    """``name@3`` -> ("name", "3"); ``name@latest`` -> ("name", "latest")."""
    if "@" in target:
        name, _, version = target.rpartition("@")
        return name, version
    return target, None


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def find_id(store: Store, name: str, tree: Tree | None = None) -> str:
    """An assistant id from an id, a graph id, a file stem or a unique name."""
    if is_uuid(name):
        return str(uuid.UUID(name))
    if store.project.has_graph(name):
        return default_assistant_id(name)
    head = store.head_commit()
    tree = tree if tree is not None else (head.tree if head is not None else None)
    if tree is not None:
        found = _by_file(store, name, tree)
        if found is not None:
            return found
    matches = _named(store, tree, name)
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


def _by_file(store: Store, name: str, tree: Tree) -> str | None:
    """The id in the file ``name`` names: a path relative to the assistants directory
    (``team/bot``, ``bot``, with or without ``.yaml``) or to the repository, else a file
    stem in any subfolder (two files sharing it: :class:`Conflict` listing both)."""
    from gitassist.store import YAML_SUFFIXES

    base = store.assistants_dir
    names = [name] if name.endswith(YAML_SUFFIXES) else [f"{name}{s}" for s in YAML_SUFFIXES]
    paths = [p for n in names for p in (f"{base}/{n}", n)]
    for path in dict.fromkeys(paths):
        found = _id_at(store, tree, path)
        if found is not None:
            return found
    if "/" in name:
        return None
    holders = [p for n in names for p in _in_subfolders(store, tree, base, n)]
    ids = {p: i for p in holders if (i := _id_at(store, tree, p)) is not None}
    if len(ids) > 1:
        shown = ", ".join(sorted(_qualified(base, p) for p in ids))
        raise Conflict(
            f"{len(ids)} assistant files are named {name!r}: {shown}",
            hint=f"name one by its path under {base}/ ({shown}) or by id",
        )
    return next(iter(ids.values()), None)


def _qualified(base: str, path: str) -> str:
    """``assistants/team/bot.yaml`` -> ``team/bot`` (the name that resolves to it)."""
    rel = path.removeprefix(f"{base}/")
    return rel.removesuffix(".yaml") if rel.endswith(".yaml") else rel


def _id_at(store: Store, tree: Tree, path: str) -> str | None:
    import pygit2

    from gitassist.store import is_document

    try:
        item = tree[path]
    except (KeyError, ValueError):
        return None
    if not is_document(path, item.filemode) or not isinstance(item, pygit2.Blob):
        return None
    from gitassist.summary_cache import cache_for

    cache_for(store)  # known ids come from the summary index: a warm lookup parses nothing
    ids = store.document_ids(Entry(path, str(item.id)))
    return ids[0] if ids is not None else None


def _in_subfolders(store: Store, tree: Tree, base: str, file_name: str) -> list[str]:
    """Paths of ``file_name`` in the subfolders of the assistants directory: one lookup per
    folder, no listing of the files."""
    import pygit2

    top = store.assistants_tree(tree, base)
    out: list[str] = []
    stack: list[tuple[str, pygit2.Tree]] = [(base, top)] if top is not None else []
    while stack:
        prefix, folder = stack.pop()
        for item in folder:
            if isinstance(item, pygit2.Tree):
                path = f"{prefix}/{item.name}"
                if file_name in item:
                    out.append(f"{path}/{file_name}")
                stack.append((path, item))
    return out


def resolve_id(store: Store, target: str, tree: Tree | None = None) -> str:
    """The assistant id ``target`` names (any ``@N`` suffix ignored); see :func:`find_id`."""
    return find_id(store, split_target(target)[0], tree)


def _named(store: Store, tree: Tree | None, name: str) -> list[IndexEntry]:
    """The assistants at ``tree`` whose document is named ``name``, from the summary index
    (names by tree id; documents by blob id: none parsed when the index is warm)."""
    from gitassist import summary_cache

    if tree is None:
        return []
    cache = summary_cache.cache_for(store)
    names = cache.names_at(str(tree.id))
    if names is None:
        index = index_at(store, tree)
        names = {}
        with cache.lock:
            cache.load()
            for assistant_id in index:
                entry = index[assistant_id]
                doc = cache.docs.get((entry.blob, entry.path), summary_cache.MISSING)
                if doc is summary_cache.MISSING:
                    info = store.blob_info(Entry(entry.path, entry.blob))
                    doc = summary_cache.DocSummary.of(info.document) if info.document else None
                    cache.add_doc((entry.blob, entry.path), doc)
                if isinstance(doc, summary_cache.DocSummary):
                    names.setdefault(doc.name, []).append(entry)
            cache.flush()
        cache.set_names_at(str(tree.id), names)
    return names.get(name, [])


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


def _default(store: Store, graph_id: str, commit: Commit | None) -> Resolved:
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
    if version is None and rev is None and store.environment is not None:
        version = store.environment  # a client bound to an environment reads its pointer
    if rev is not None:
        commit = store.commit(rev)
        if version not in (None, "latest"):
            raise NotFound("use either --rev or @N, not both")
        return at_tree(store, find_id(store, name, commit.tree), commit)
    assistant_id = find_id(store, name)
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
        raise NotFound(f"no assistant {target!r}: the repository has no commits yet")
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
    warnings: list[str] | None = None,
    fold_case: bool = False,
) -> list[Resolved]:
    """Active assistants (plus each graph's default), filtered like the LangGraph API
    (``fold_case``: names sort case-insensitively, as the server sorts them).

    A bad ref (see docs/refs.md) is skipped, with a line appended to ``warnings``."""
    page, _ = search_page(
        store,
        graph_id=graph_id,
        metadata=metadata,
        name=name,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
        warnings=warnings,
        fold_case=fold_case,
    )
    return [_materialize(s) for s in page]


def search_page(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    limit: int = 10,
    offset: int = 0,
    sort_by: str | None = None,
    sort_order: str | None = None,
    warnings: list[str] | None = None,
    fold_case: bool = False,
) -> tuple[list[Summary], int]:
    """One page of :func:`search` as summaries (no document parsed when the index is warm)
    and how many assistants match in all."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_KEYS)}")
    key = sort_by or "created_at"
    sort_key = _sort_key(key, fold_case)
    reverse = (sort_order or "desc") == "desc"
    if graph_id is None and name is None and metadata is None:  # every one: a kept order
        every = _all_active(store, warnings).ordered(key, fold_case, reverse, sort_key)
        return every[offset : offset + limit], len(every)
    items = _matching(store, graph_id, metadata, name, warnings)
    if offset + limit < len(items) // 4:
        import heapq

        pick = heapq.nlargest if reverse else heapq.nsmallest
        return pick(offset + limit, items, key=sort_key)[offset:], len(items)
    items.sort(key=sort_key, reverse=reverse)
    return items[offset : offset + limit], len(items)


def _sort_key(key: str, fold_case: bool) -> Callable[[Summary], tuple[str, str]]:
    if key == "name" and fold_case:
        return lambda s: (s.doc.name.lower(), s.assistant_id)
    if key in ("name", "graph_id"):
        return lambda s: (getattr(s.doc, key), s.assistant_id)
    return lambda s: (getattr(s, key), s.assistant_id)


def _matching(
    store: Store,
    graph_id: str | None,
    metadata: dict[str, Any] | None,
    name: str | None,
    warnings: list[str] | None,
) -> list[Summary]:
    found = _all_active(store, warnings).items
    if graph_id is None and name is None and metadata is None:
        return found
    folded = name.lower() if name is not None else None
    return [
        s
        for s in found
        if (graph_id is None or s.doc.graph_id == graph_id)
        and (folded is None or folded in s.doc.name.lower())
        and (metadata is None or _contains(s.doc.metadata(), metadata))
    ]


def count(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
) -> int:
    return len(_matching(store, graph_id, metadata, name, None))


def _contains(have: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(k in have and have[k] == v for k, v in want.items())


def _all_active(store: Store, warnings: list[str] | None = None) -> summary.Active:
    """Every active assistant, from the summary index (see :mod:`gitassist.summary`)."""
    from gitassist import summary

    def build(said: list[str], refs: summary_refs.Refs | None) -> list[Summary]:
        out, bad = summary.recorded(store, said, refs)
        head = store.head_commit()
        if head is not None:
            _add_unrecorded(store, head, out, bad)
        for graph_id in store.project.graphs:
            default_id = default_assistant_id(graph_id)
            if default_id not in out:
                out[default_id] = _summary_of(_default(store, graph_id, head))
        return list(out.values())

    return summary.active(store, warnings, build)


def _add_unrecorded(store: Store, head: Commit, out: dict[str, Summary], bad: set[str]) -> None:
    from gitassist import summary, summary_cache

    cache = summary_cache.cache_for(store)
    when = iso(head.committer.time)
    author = f"{head.author.name} <{head.author.email}>"
    tree = str(head.tree.id)
    with cache.lock:
        cache.load()
        ids = cache.ids_at(tree)
        index = None
        if ids is None:  # the ids at a tree, kept by tree id (the index loads every shard)
            index = index_at(store, head.tree)
            ids = list(index)
            cache.set_ids_at(tree, ids)
        for assistant_id in ids:
            if assistant_id not in out and assistant_id not in bad:
                index = index if index is not None else index_at(store, head.tree)
                entry = index[assistant_id]
                doc = summary.doc_summary(store, cache, Entry(entry.path, entry.blob))
                out[assistant_id] = summary_cache.Summary(
                    doc,
                    None,
                    "unrecorded",
                    str(head.id),
                    entry.path,
                    entry.blob,
                    when,
                    when,
                    author=author,
                )
        cache.flush()


def _summary_of(r: Resolved) -> Summary:
    from gitassist.summary_cache import DocSummary, Summary

    return Summary(
        DocSummary.of(r.document),
        r.version,
        r.source,
        r.commit,
        r.path,
        r.blob,
        r.created_at,
        r.updated_at,
        r.max_version,
        r.author,
        r.recorded_by,
        r.ci,
    )


def _materialize(s: Summary) -> Resolved:
    """The :class:`Resolved` of a summary (its document rebuilt from the canonical content)."""
    import json

    doc = AssistantDocument.model_validate(json.loads(s.doc.canonical_json))
    return Resolved(
        doc,
        s.version,
        cast("Source", s.source),
        s.commit,
        s.path,
        s.blob,
        s.created_at,
        s.updated_at,
        s.max_version,
        s.author,
        s.recorded_by,
        s.ci,
    )


def get_versions(store: Store, target: str, *, limit: int = 10, offset: int = 0) -> list[Resolved]:
    """Versions newest first, read straight from their refs (no history walk)."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    assistant_id = resolve_id(store, target)
    top = max_version(store, assistant_id)
    if top == 0:
        resolve(store, assistant_id)  # raises NotFound for an unknown assistant
        return []
    numbers = range(top - offset, max(top - offset - limit, 0), -1)
    return [get_version(store, assistant_id, n, top=top) for n in numbers]
