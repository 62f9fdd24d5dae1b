"""The apply record: what ``refs/gitassist/applied`` says, and the assistant index at a tree.

The planner (:mod:`gitassist.plan`) starts from the record; reads elsewhere use
:func:`index_at` to find which file holds each assistant at a commit without parsing them all.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygit2

from gitassist.errors import RepositoryError
from gitassist.index import Index, advance, full_index, read_index
from gitassist.versions import APPLIED_REF, applied_fields

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.store import Store


@dataclass
class AppliedRecord:
    """What ``refs/gitassist/applied`` says; its index is read on first use."""

    pointer: str | None
    commit: str | None
    absent: dict[str, dict[str, str]]
    tree: pygit2.Tree | None = None
    repo: pygit2.Repository | None = None
    _index: Index | None = None
    rebuild: Callable[[str], Index] | None = None  # an unreadable index shard: parse the tree
    tree_id: str | None = None  # the record's tree, read on first use (when ``tree`` is None)

    @property
    def index(self) -> Index:
        """assistant id -> file at the applied commit (do not modify: it is shared)."""
        if self._index is None:
            if self.tree is None and self.tree_id is not None and self.repo is not None:
                tree = self.repo.get(self.tree_id)
                if not isinstance(tree, pygit2.Tree):  # never an empty index in its place
                    raise RepositoryError(f"{APPLIED_REF}'s tree {self.tree_id[:12]} is missing")
                self.tree = tree
            self._index = (
                read_index(self.repo, self.tree, self.rebuild)
                if self.repo is not None and self.tree is not None
                else {}
            )
        return self._index


class AppliedCache:
    """The planner's cache: the apply record last read from each store, per thread (a record
    holds pygit2 objects, which one thread at a time may use). A record never changes, so it
    is good for as long as ``refs/gitassist/applied`` still names it."""

    def __init__(self) -> None:
        self._records: weakref.WeakKeyDictionary[Store, dict[int, AppliedRecord]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, store: Store, pointer: str) -> AppliedRecord | None:
        record = self._records.get(store, {}).get(threading.get_ident())
        return record if record is not None and record.pointer == pointer else None

    def put(self, store: Store, record: AppliedRecord) -> None:
        self._records.setdefault(store, {})[threading.get_ident()] = record


_APPLIED = AppliedCache()


def read_applied(store: Store) -> AppliedRecord:
    """The apply record (cached by its id: a record never changes)."""
    oid = store.refdb.read(APPLIED_REF)
    if oid is None:
        return AppliedRecord(None, None, {})
    cached = _APPLIED.get(store, oid)
    if cached is not None:
        return cached
    commit = store.repo.get(oid)
    if not isinstance(commit, pygit2.Commit):
        raise RepositoryError(f"{APPLIED_REF} does not point at a commit")
    applied_commit, absent = applied_fields(commit)
    rebuild = _rebuilder(store, applied_commit)
    record = AppliedRecord(oid, applied_commit, absent, commit.tree, store.repo, rebuild=rebuild)
    _APPLIED.put(store, record)
    return record


def _rebuilder(store: Store, applied_commit: str | None) -> Callable[[str], Index]:
    def rebuild(why: str) -> Index:
        store.warn(
            f"the apply record's {why}; rebuilt it from the applied tree "
            "(the next apply or write rewrites it)"
        )
        base = store.repo.get(applied_commit) if isinstance(applied_commit, str) else None
        return full_index(store, base.tree if isinstance(base, pygit2.Commit) else None)

    return rebuild


def keep_applied(
    store: Store, pointer: str, commit: str, absent: dict[str, dict[str, str]], tree: str
) -> None:
    """Take the apply record this thread just wrote (commit ``pointer``, recording ``commit``,
    its tree ``tree``) as read: the next :func:`read_applied` does not read it back. It is
    used only once the ref names it (a write that then fails leaves the ref elsewhere)."""
    rebuild = _rebuilder(store, commit)
    kept = {k: dict(v) for k, v in absent.items()}
    record = AppliedRecord(pointer, commit, kept, None, store.repo, rebuild=rebuild)
    record.tree_id = tree
    _APPLIED.put(store, record)


def index_at(store: Store, tree: pygit2.Tree | None, applied: AppliedRecord | None = None) -> Index:
    """assistant id -> file at ``tree``, from the apply record's index plus a diff."""
    applied = applied if applied is not None else read_applied(store)
    if applied.commit is not None:
        base = store.repo.get(applied.commit)
        if isinstance(base, pygit2.Commit):
            return advance(store, applied.index, base.tree, tree)
    return full_index(store, tree)
