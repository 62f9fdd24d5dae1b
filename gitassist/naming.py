"""Naming assistants: an id, graph id, file stem, path-qualified name or unique name -> an id.

Read-only: each function takes a :class:`~gitassist.store.Store` and returns an id (or the
``NAME@N`` / ``NAME@ENV`` parts of a target); nothing here writes, prints or exits. Reading
the named assistant's document is :mod:`gitassist.resolve`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from gitassist.applied import index_at
from gitassist.errors import Conflict, NotFound
from gitassist.project import default_assistant_id, init_hint
from gitassist.store import Entry

if TYPE_CHECKING:
    from pygit2 import Tree

    from gitassist.index import IndexEntry
    from gitassist.store import Store


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
        hint=init_hint(
            store.root,
            "name an assistant by id, graph id, file stem or unique name; "
            "`gitassist list` shows them",
        ),
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
    from gitassist import summary_cache as summary

    if tree is None:
        return []
    cache = summary.cache_for(store)
    names = cache.names_at(str(tree.id))
    if names is None:
        index = index_at(store, tree)
        names = {}
        with cache.lock:
            cache.load()
            for assistant_id in index:
                entry = index[assistant_id]
                doc = cache.docs.get((entry.blob, entry.path), summary.MISSING)
                if doc is summary.MISSING:
                    info = store.blob_info(Entry(entry.path, entry.blob))
                    doc = summary.DocSummary.of(info.document) if info.document else None
                    cache.add_doc((entry.blob, entry.path), doc)
                if isinstance(doc, summary.DocSummary):
                    names.setdefault(doc.name, []).append(entry)
            cache.flush()
        cache.set_names_at(str(tree.id), names)
    return names.get(name, [])
