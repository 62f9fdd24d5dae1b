"""Committing assistant files without touching the user's other work: the new tree is built
from the parent commit's tree, not from the index, and the branch moves (compare-and-swap)
only after the work tree and index are in line for the files that changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygit2

from gitassist.checkout import temp_path, write_worktree

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pygit2 import Commit, Oid, Tree

    from gitassist.refs import RefUpdate
    from gitassist.store import Store


def write_commit(
    store: Store,
    branch: str,
    parent: Commit | None,
    changes: dict[str, str | None],
    message: str,
    author: pygit2.Signature | None = None,
) -> Commit:
    """Commit ``changes`` ({path: text or None to delete}) on top of ``parent`` and publish
    it on ``branch`` (see :func:`make_commit` and :func:`publish`)."""
    commit = make_commit(store, parent, changes, message, author)
    publish(store, branch, parent, commit, changes)
    return commit


def make_commit(
    store: Store,
    parent: Commit | None,
    changes: dict[str, str | None],
    message: str,
    author: pygit2.Signature | None = None,
    *,
    hooks: bool = False,
    blobs: dict[str, str] | None = None,
) -> Commit:
    """A commit object of ``changes`` on top of ``parent``; no ref or file moves yet.

    The tree is built from ``parent``'s tree, never from the index, so the user's staged
    work is not swept in. With ``hooks``, the repository's ``pre-commit`` and
    ``commit-msg`` hooks run on that tree first (:mod:`gitassist.hooks`). ``blobs``, if
    given, receives the id of each blob written (by path), so nothing re-reads the tree.
    """
    repo = store.repo
    builder_tree = parent.tree if parent is not None else None
    written = blobs if blobs is not None else {}
    new_tree = _tree_with(store, builder_tree, changes, written) or repo.TreeBuilder().write()
    if hooks:
        from gitassist.hooks import run_commit_hooks

        message = run_commit_hooks(store, new_tree, message)
    committer = store.signature()
    commit_oid = repo.create_commit(
        None,
        author or committer,
        committer,
        message,
        new_tree,
        [parent.id] if parent is not None else [],
    )
    return store.get_commit(commit_oid)


def publish(
    store: Store,
    branch: str,
    parent: Commit | None,
    commit: Commit,
    changes: dict[str, str | None],
    then: Sequence[RefUpdate] = (),
    then_message: str = "",
) -> None:
    """Bring the working tree and the index in line for the changed paths, then move
    ``branch`` from ``parent`` to ``commit`` (compare-and-swap), then the refs ``then``
    (reflog message ``then_message``), all in one ref transaction: every ref is locked and
    compared first, the files are written while the locks are held, the refs after them.

    In that order, an interruption leaves the change staged (nothing lost, nothing half
    committed); if the branch moved meanwhile, nothing is written; if writing the files
    fails, they are put back as they were.
    """
    from gitassist.refs import RefUpdate

    old = str(parent.id) if parent is not None else None
    summary = commit.message.splitlines()[0] if commit.message else ""
    head = RefUpdate(f"refs/heads/{branch}", str(commit.id), old, message=f"commit: {summary}")
    before = {path: store.read_work_text(path) for path in changes}
    temps = [
        str(temp_path(store.root / path)) for path, text in changes.items() if text is not None
    ]
    try:
        store.refdb.update(
            [head, *then],
            then_message or f"commit: {summary}",
            during=lambda: write_worktree(store, changes),
            also_made=temps,
        )
    except BaseException:
        if store.refdb.read(head.name) == old:  # the branch did not move: neither do the files
            write_worktree(store, before)
        raise


def _tree_with(
    store: Store, tree: Tree | None, changes: dict[str, str | None], blobs: dict[str, str]
) -> Oid | None:
    """A new tree equal to ``tree`` with ``changes`` applied (paths may be nested)."""
    repo = store.repo
    grouped: dict[str, dict[str, str | None]] = {}
    direct: dict[str, str | None] = {}
    for path, text in changes.items():
        head, sep, rest = path.partition("/")
        if sep:
            grouped.setdefault(head, {})[rest] = text
        else:
            direct[path] = text
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    for name, text in direct.items():
        if text is None:
            if builder.get(name) is not None:
                builder.remove(name)
        else:
            blob = repo.create_blob(text.encode("utf-8"))
            blobs[name] = str(blob)
            builder.insert(name, blob, pygit2.GIT_FILEMODE_BLOB)
    for name, sub_changes in grouped.items():
        existing = builder.get(name)
        sub_tree = repo.get(existing.id) if existing is not None else None
        sub_blobs: dict[str, str] = {}
        sub_oid = _tree_with(
            store, sub_tree if isinstance(sub_tree, pygit2.Tree) else None, sub_changes, sub_blobs
        )
        blobs.update({f"{name}/{path}": oid for path, oid in sub_blobs.items()})
        if sub_oid is None:
            if existing is not None:
                builder.remove(name)
        else:
            builder.insert(name, sub_oid, pygit2.GIT_FILEMODE_TREE)
    return builder.write() if len(builder) else None
