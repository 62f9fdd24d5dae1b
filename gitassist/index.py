"""Which file holds which assistant, at any tree, without parsing every file.

The apply record (``refs/gitassist/applied``) carries an index of the applied tree in its
own tree: ``index/<first two hex digits of the id>`` blobs with one line per assistant,
``<assistant_id> <path> <blob> <graph_id>``. Sharding keeps a write's cost flat: recording
one assistant rewrites one ~40-line shard, not the whole index. The index at any other tree is
that index plus a C-level diff of the two assistants directories, so only changed files are
parsed. With no apply record yet, every file is parsed once (cached by blob id).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygit2

from gitassist.store import YAML_SUFFIXES, Entry

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pygit2 import Oid, Tree

    from gitassist.store import Store

SHARDS = "index"
_ZERO = pygit2.Oid(hex="0" * 40)


@dataclass(frozen=True)
class IndexEntry:
    assistant_id: str
    path: str
    blob: str
    graph_id: str


Index = MutableMapping[str, IndexEntry]


class ShardedIndex(MutableMapping[str, IndexEntry]):
    """The index of an apply record, loading each shard only when one of its ids is asked for.

    Recording one assistant reads and rewrites one shard (~40 lines at 10,000 assistants)
    instead of the whole index; iterating or ``len()`` loads every shard.
    """

    def __init__(self, repo: pygit2.Repository, shards: pygit2.Tree | None) -> None:
        self.repo = repo
        self.shards = shards
        self.loaded: dict[str, dict[str, IndexEntry]] = {}
        self.touched: set[str] = set()  # shard prefixes changed since loading

    def _shard(self, prefix: str) -> dict[str, IndexEntry]:
        shard = self.loaded.get(prefix)
        if shard is None:
            shard = {}
            if self.shards is not None:
                try:
                    blob = self.repo.get(self.shards[prefix].id)
                except KeyError:
                    blob = None
                if isinstance(blob, pygit2.Blob):
                    _parse(blob.data, shard)
            self.loaded[prefix] = shard
        return shard

    def _all(self) -> None:
        for item in self.shards or ():
            self._shard(item.name or "")

    def __getitem__(self, key: str) -> IndexEntry:
        return self._shard(key[:2])[key]

    def __setitem__(self, key: str, value: IndexEntry) -> None:
        self._shard(key[:2])[key] = value
        self.touched.add(key[:2])

    def __delitem__(self, key: str) -> None:
        del self._shard(key[:2])[key]
        self.touched.add(key[:2])

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._shard(key[:2])

    def __iter__(self) -> Iterator[str]:
        self._all()
        for shard in list(self.loaded.values()):
            yield from shard

    def __len__(self) -> int:
        self._all()
        return sum(len(s) for s in self.loaded.values())

    def copy(self) -> ShardedIndex:
        other = ShardedIndex(self.repo, self.shards)
        other.loaded = {k: dict(v) for k, v in self.loaded.items()}
        other.touched = set(self.touched)
        return other


def _line(e: IndexEntry) -> str:
    return f"{e.assistant_id}\t{e.path}\t{e.blob}\t{e.graph_id}\n"


def _parse(data: bytes, into: Index) -> None:
    for line in data.decode("utf-8").splitlines():
        assistant_id, path, blob, graph_id = line.split("\t")
        into[assistant_id] = IndexEntry(assistant_id, path, blob, graph_id)


def read_index(repo: pygit2.Repository, tree: Tree) -> ShardedIndex:
    """The index kept in an apply record's tree, loaded shard by shard as it is used."""
    try:
        obj = repo.get(tree[SHARDS].id)
    except KeyError:
        obj = None
    index = ShardedIndex(repo, obj if isinstance(obj, pygit2.Tree) else None)
    if isinstance(obj, pygit2.Blob):  # the first, unsharded format: one blob
        flat: dict[str, IndexEntry] = {}
        _parse(obj.data, flat)
        for key, value in flat.items():
            index[key] = value
    return index


def write_index(repo: pygit2.Repository, index: Index) -> Oid:
    """A tree holding ``index``; a :class:`ShardedIndex` rewrites only its changed shards."""
    old = index.shards if isinstance(index, ShardedIndex) else None
    shards = index.touched if isinstance(index, ShardedIndex) and old is not None else None
    buckets: dict[str, list[str]] = {}
    entries = (
        (e for p in shards for e in index._shard(p).values())
        if isinstance(index, ShardedIndex) and shards is not None
        else index.values()
    )
    for entry in entries:
        buckets.setdefault(entry.assistant_id[:2], []).append(_line(entry))
    base = repo.get(old.id) if old is not None else None
    builder = repo.TreeBuilder(base) if isinstance(base, pygit2.Tree) else repo.TreeBuilder()
    for prefix in shards if shards is not None else buckets:
        lines = buckets.get(prefix)
        if lines:
            blob = repo.create_blob("".join(sorted(lines)).encode("utf-8"))
            builder.insert(prefix, blob, pygit2.GIT_FILEMODE_BLOB)
        elif builder.get(prefix) is not None:
            builder.remove(prefix)
    root = repo.TreeBuilder()
    if len(builder):
        root.insert(SHARDS, builder.write(), pygit2.GIT_FILEMODE_TREE)
    return root.write()


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
    if old_sub is None and new_sub is None:
        return [], []
    if old_sub is not None and new_sub is not None and old_sub.id == new_sub.id:
        return [], []
    base = store.assistants_dir
    removed: list[Entry] = []
    added: list[Entry] = []
    if old_sub is None or new_sub is None:
        listed = list(store.entries(new if old_sub is None else old).values())
        return ([], listed) if old_sub is None else (listed, [])
    for delta in old_sub.diff_to_tree(new_sub).deltas:
        for file, bucket in ((delta.old_file, removed), (delta.new_file, added)):
            if file.id != _ZERO and file.path.endswith(YAML_SUFFIXES) and "/" not in file.path:
                bucket.append(Entry(f"{base}/{file.path}", str(file.id)))
    return removed, added


def apply_changes(store: Store, index: Index, removed: list[Entry], added: list[Entry]) -> set[str]:
    """Update ``index`` in place for one diff; returns the ids whose entries changed."""
    touched: set[str] = set()
    for entry in removed:
        doc = store.blob_info(entry).document
        held = index.get(doc.assistant_id) if doc is not None else None
        if held is not None and held.path == entry.path:
            del index[held.assistant_id]
            touched.add(held.assistant_id)
    for entry in added:
        doc = store.blob_info(entry).document
        if doc is not None and doc.assistant_id not in index:
            index[doc.assistant_id] = IndexEntry(
                doc.assistant_id, entry.path, entry.blob, doc.graph_id
            )
            touched.add(doc.assistant_id)
    return touched


def copy_index(index: Index) -> Index:
    return index.copy() if isinstance(index, ShardedIndex) else dict(index)


def advance(store: Store, index: Index, old: Tree | None, new: Tree | None) -> Index:
    """The index at ``new`` given the index at ``old`` (``index`` itself is not changed)."""
    removed, added = changed_entries(store, old, new)
    if not removed and not added:
        return index
    out = copy_index(index)
    apply_changes(store, out, removed, added)
    return out
