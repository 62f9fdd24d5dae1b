"""Which file holds which assistant, at any tree, without parsing every file.

The apply record (``refs/gitassist/applied``) carries an index of the applied tree: one line
per assistant, ``<assistant_id> <path> <blob> <graph_id>``. The index at any other tree is that
index plus a C-level diff of the two assistants directories, so only changed files are parsed.
With no apply record yet, every file is parsed once (cached by blob id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygit2

from gitassist.store import Entry

if TYPE_CHECKING:
    from pygit2 import Tree

    from gitassist.store import Store


@dataclass(frozen=True)
class IndexEntry:
    assistant_id: str
    path: str
    blob: str
    graph_id: str


Index = dict[str, IndexEntry]


def dump_index(index: Index) -> bytes:
    lines = [f"{e.assistant_id}\t{e.path}\t{e.blob}\t{e.graph_id}\n" for e in index.values()]
    return "".join(sorted(lines)).encode("utf-8")


def load_index(data: bytes) -> Index:
    out: Index = {}
    for line in data.decode("utf-8").splitlines():
        assistant_id, path, blob, graph_id = line.split("\t")
        out[assistant_id] = IndexEntry(assistant_id, path, blob, graph_id)
    return out


def full_index(store: Store, tree: Tree | None) -> Index:
    """Parse every assistant file in ``tree`` (first holder of an id wins)."""
    out: Index = {}
    for entry, info in store.documents(tree):
        doc = info.document
        if doc is not None and doc.assistant_id not in out:
            out[doc.assistant_id] = IndexEntry(
                doc.assistant_id, entry.path, entry.blob, doc.graph_id
            )
    return out


def changed_entries(
    store: Store, old: Tree | None, new: Tree | None
) -> tuple[list[Entry], list[Entry]]:
    """Assistant files removed-or-changed (old side) and added-or-changed (new side)."""
    old_sub = store.assistants_tree(old)
    new_sub = store.assistants_tree(new)
    if old_sub is not None and new_sub is not None and old_sub.id == new_sub.id:
        return [], []
    if old_sub is None and new_sub is None:
        return [], []
    base = store.assistants_dir
    removed: list[Entry] = []
    added: list[Entry] = []
    if old_sub is None or new_sub is None:
        side = new_sub if old_sub is None else old_sub
        bucket = added if old_sub is None else removed
        assert side is not None
        for item in side:
            if item.type_str == "blob" and (item.name or "").endswith((".yaml", ".yml")):
                bucket.append(Entry(f"{base}/{item.name}", str(item.id)))
        return removed, added
    diff = old_sub.diff_to_tree(new_sub)
    zero = pygit2.Oid(hex="0" * 40)
    for delta in diff.deltas:
        for file, bucket in ((delta.old_file, removed), (delta.new_file, added)):
            if file.id != zero and file.path.endswith((".yaml", ".yml")) and "/" not in file.path:
                bucket.append(Entry(f"{base}/{file.path}", str(file.id)))
    return removed, added


def advance(store: Store, index: Index, old: Tree | None, new: Tree | None) -> Index:
    """The index at ``new`` given the index at ``old``."""
    removed, added = changed_entries(store, old, new)
    if not removed and not added:
        return index
    out = dict(index)
    by_path = {e.path: e.assistant_id for e in index.values()}
    for entry in removed:
        assistant_id = by_path.get(entry.path)
        held = out.get(assistant_id) if assistant_id is not None else None
        if held is not None and held.path == entry.path:
            del out[held.assistant_id]
    for entry in added:
        doc = store.blob_info(entry).document
        if doc is not None and doc.assistant_id not in out:
            out[doc.assistant_id] = IndexEntry(
                doc.assistant_id, entry.path, entry.blob, doc.graph_id
            )
    return out
