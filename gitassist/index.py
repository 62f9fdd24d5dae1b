"""Which file holds which assistant, at any tree, without parsing every file.

The apply record (``refs/gitassist/applied``) carries an index of the applied tree in its
own tree: ``index/<first two hex digits of the id>`` blobs with one line per assistant,
``<assistant_id> TAB <path> TAB <blob> TAB <graph_id> LF``. A path or graph id that holds a
control character (tab, LF, CR, …), a Unicode line or paragraph separator, a lone surrogate
or a leading ``"`` is written as a JSON string (``"assistants/a\tb.yaml"``); every other one
as itself, so ordinary paths read the same in older records and older readers. A shard that
cannot be read is rebuilt from the applied tree, with a warning. Sharding keeps a write's
cost flat: recording one assistant rewrites one ~40-line shard, not the whole index. The
index at any other tree is that index plus a C-level diff of the two assistants directories,
so only changed files are parsed. With no apply record yet, every file is parsed once
(cached by blob id).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygit2

from gitassist.errors import RepositoryError
from gitassist.store import Entry, is_document

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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

    def __init__(
        self,
        repo: pygit2.Repository,
        shards: pygit2.Tree | None,
        rebuild: Callable[[str], Index] | None = None,
    ) -> None:
        self.repo = repo
        self.shards = shards
        self.rebuild = rebuild  # (why) -> the full index, parsed from the applied tree
        self.loaded: dict[str, dict[str, IndexEntry]] = {}
        self.touched: set[str] = set()  # shard prefixes changed since loading
        self._rebuilt: Index | None = None

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
                    try:
                        _parse(blob.data, shard)
                    except IndexFormatError as exc:
                        shard = self._from_tree(prefix, f"index shard {prefix}: {exc}")
            self.loaded[prefix] = shard
        return shard

    def _from_tree(self, prefix: str, why: str) -> dict[str, IndexEntry]:
        """The shard's entries parsed from the applied tree; the next write rewrites it."""
        if self.rebuild is None:
            raise IndexFormatError(why)
        if self._rebuilt is None:
            self._rebuilt = self.rebuild(why)
        self.touched.add(prefix)
        return {k: v for k, v in self._rebuilt.items() if k[:2] == prefix}

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
        other = ShardedIndex(self.repo, self.shards, self.rebuild)
        other.loaded = {k: dict(v) for k, v in self.loaded.items()}
        other.touched = set(self.touched)
        other._rebuilt = self._rebuilt
        return other


class IndexFormatError(RepositoryError):
    """An index shard that is not in the format (an older writer's unescaped path, damage)."""

    code = "index_unreadable"

    def __init__(self, message: str) -> None:
        super().__init__(
            f"the apply record's {message}" if message.startswith("index") else message,
            hint="run `gitassist apply`: it rewrites the index from the tree",
        )


_SEPARATORS = frozenset("\u2028\u2029")  # line breaks to str.splitlines, beyond Cc


def _needs_quoting(text: str) -> bool:
    if text.isascii() and text.isprintable():  # the common case, without a per-character scan
        return text.startswith('"')
    return text.startswith('"') or any(
        unicodedata.category(c) in ("Cc", "Cs") or c in _SEPARATORS for c in text
    )


def quote_field(text: str) -> str:
    """``text`` as one index field: itself, or a JSON string when it holds a character that
    would break the line format (tab, line breaks, other controls, lone surrogates)."""
    return json.dumps(text, ensure_ascii=True) if _needs_quoting(text) else text


def unquote_field(field: str) -> str:
    if field.startswith('"'):
        try:
            value = json.loads(field)
        except ValueError:
            return field  # an older writer's path that merely starts with a quote
        if isinstance(value, str):
            return value
    return field


def _line(e: IndexEntry) -> str:
    return f"{e.assistant_id}\t{quote_field(e.path)}\t{e.blob}\t{quote_field(e.graph_id)}\n"


def _is_hex(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def _parse(data: bytes, into: Index) -> None:
    """Read a shard (both formats); :class:`IndexFormatError` if it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexFormatError(f"not UTF-8 at byte {exc.start}") from None
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) < 4:
            raise IndexFormatError(f"line {number} has {len(fields)} field(s), not 4")
        # An older writer put a path with tabs in unquoted: the id and the last two fields
        # (blob, graph id) are tab-free, so whatever lies between them is the path.
        assistant_id, blob, graph_id = fields[0], fields[-2], fields[-1]
        path = "\t".join(fields[1:-2])
        if not _is_hex(blob) or not assistant_id:
            raise IndexFormatError(f"line {number} is not `<id> <path> <blob> <graph_id>`")
        into[assistant_id] = IndexEntry(
            assistant_id, unquote_field(path), blob, unquote_field(graph_id)
        )


def read_index(
    repo: pygit2.Repository, tree: Tree, rebuild: Callable[[str], Index] | None = None
) -> ShardedIndex:
    """The index kept in an apply record's tree, loaded shard by shard as it is used.

    ``rebuild(why)`` gives the full index parsed from the applied tree; it stands in for a
    shard that cannot be read (without it, such a shard raises :class:`IndexFormatError`).
    """
    try:
        obj = repo.get(tree[SHARDS].id)
    except KeyError:
        obj = None
    index = ShardedIndex(repo, obj if isinstance(obj, pygit2.Tree) else None, rebuild)
    if isinstance(obj, pygit2.Blob):  # the first, unsharded format: one blob
        flat: dict[str, IndexEntry] = {}
        try:
            _parse(obj.data, flat)
        except IndexFormatError as exc:
            if rebuild is None:
                raise
            flat = dict(rebuild(f"index: {exc}"))
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
    store: Store, old: Tree | None, new: Tree | None, skipped: list[str] | None = None
) -> tuple[list[Entry], list[Entry]]:
    """Assistant files removed-or-changed (old side) and added-or-changed (new side), in
    every subfolder; ``skipped`` collects added-or-changed files that are not documents."""
    old_base, base = store.assistants_dirs(old, new)
    old_sub = store.assistants_tree(old, old_base)
    new_sub = store.assistants_tree(new, base)
    if old_sub is None and new_sub is None:
        return [], []
    if (
        old_base == base
        and old_sub is not None
        and new_sub is not None
        and old_sub.id == new_sub.id
    ):
        return [], []
    removed: list[Entry] = []
    added: list[Entry] = []
    if old_sub is None or new_sub is None or old_base != base:  # whole sides: list each
        removed = list(store.entries(old, old_base).values()) if old_sub is not None else []
        added = list(store.entries(new, base, skipped).values()) if new_sub is not None else []
        return removed, added
    # libgit2's tree diff recurses into subfolders and skips a subtree whose id is unchanged
    for delta in old_sub.diff_to_tree(new_sub).deltas:
        for file, bucket in ((delta.old_file, removed), (delta.new_file, added)):
            if file.id != _ZERO and is_document(file.path, file.mode):
                bucket.append(Entry(f"{base}/{file.path}", str(file.id)))
            elif skipped is not None and file.id != _ZERO and bucket is added:
                skipped.append(f"{base}/{file.path}")
    return removed, added


def apply_changes(store: Store, index: Index, removed: list[Entry], added: list[Entry]) -> set[str]:
    """Update ``index`` in place for one diff; returns the ids whose entries changed."""
    touched: set[str] = set()
    for entry in removed:
        ids = store.document_ids(entry)
        held = index.get(ids[0]) if ids is not None else None
        if held is not None and held.path == entry.path:
            del index[held.assistant_id]
            touched.add(held.assistant_id)
    for entry in added:
        ids = store.document_ids(entry)
        if ids is not None and ids[0] not in index:
            index[ids[0]] = IndexEntry(ids[0], entry.path, entry.blob, ids[1])
            touched.add(ids[0])
    return touched


def copy_index(index: Index) -> Index:
    return index.copy() if isinstance(index, ShardedIndex) else dict(index)


def advance(store: Store, index: Index, old: Tree | None, new: Tree | None) -> Index:
    """The index at ``new`` given the index at ``old`` (``index`` itself is not changed)."""
    if old is not None and new is not None and old.id == new.id:
        return index  # the same tree (a write on top of the applied commit): nothing to read
    removed, added = changed_entries(store, old, new)
    if not removed and not added:
        return index
    out = copy_index(index)
    apply_changes(store, out, removed, added)
    return out
