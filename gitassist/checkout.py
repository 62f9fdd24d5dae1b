"""The work tree and index beside gitassist's commits: which paths have uncommitted changes,
writing changed assistant files (through a temporary file, never through a symlink) and
their index entries, and removing the temporary files a killed write left behind."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pygit2

from gitassist.store import TMP_SUFFIX

if TYPE_CHECKING:
    from pathlib import Path

    from gitassist.store import Store


def temp_path(target: Path) -> Path:
    """Where a document is written before it replaces ``target``: ``.NAME.gitassist-tmp``
    beside it, or ``.HASH.gitassist-tmp`` when that would be too long a file name (a name
    near the file system's 255 bytes is a valid document name)."""
    name = f".{target.name}{TMP_SUFFIX}"
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        import hashlib

        digest = hashlib.sha1(target.name.encode("utf-8", "surrogateescape")).hexdigest()
        name = f".{digest}{TMP_SUFFIX}"
    return target.with_name(name)


def dirty_paths(
    store: Store, paths: list[str] | None = None, head: pygit2.Commit | None = None
) -> list[str]:
    """Paths with uncommitted changes (staged or not), limited to ``paths`` if given
    (``head``: HEAD's commit, when the caller has it)."""
    flags = pygit2.enums.FileStatus
    clean = {flags.CURRENT, flags.IGNORED}
    if paths is None:
        return [p for p, s in store.repo.status().items() if s not in clean]
    # For a few paths, ask for each path's status: no scan of the whole working tree.
    # git's status applies the checkout filters (core.autocrlf, .gitattributes eol/text),
    # so a file checked out with CRLF from an LF blob is clean, as `git status` says.
    # First the common case, without a status run: HEAD, the index and the file agree byte
    # for byte (libgit2's status costs ~0.4 ms a path; this a file read and a hash).
    out = []
    index = store.repo.index
    index.read(False)  # a no-op when the file is unchanged since it was last read
    head = head if head is not None else store.head_commit()
    for path in paths:
        if head is not None and _same_everywhere(store, index, head.tree, path):
            continue
        try:
            status = store.repo.status_file(path)
        except KeyError:  # in none of HEAD, index, work tree
            continue
        except (ValueError, pygit2.GitError):  # ambiguous (case-folding file system)
            out.append(path)
            continue
        if status not in clean:
            out.append(path)
    return out


def _same_everywhere(store: Store, index: pygit2.Index, tree: pygit2.Tree, path: str) -> bool:
    """True when ``path`` is certainly clean: its index entry is HEAD's blob and mode, and the
    work-tree file is a regular file whose bytes are that blob (mode bits agreeing). False
    means "ask git's status" (a conflict, a filter, a new or missing file, any doubt)."""
    import stat

    try:
        entry = index[path]
        item = tree[path]
    except (KeyError, ValueError):
        return False
    if entry.id != item.id or entry.mode != item.filemode or index.conflicts is not None:
        return False
    target = store.root / path
    try:
        st = os.lstat(target)
        if not stat.S_ISREG(st.st_mode) or bool(st.st_mode & 0o100) != (entry.mode == 0o100755):
            return False
        data = target.read_bytes()
    except OSError:
        return False
    return bool(pygit2.hash(data) == entry.id)


def stray_temp_files(store: Store) -> list[Path]:
    """Temporary files a killed gitassist write left in the assistants directory."""
    base = store.root / store.assistants_dir
    if base.is_symlink() or not base.is_dir():  # never clean up outside the repository
        return []
    return sorted(p for p in base.rglob(f".*{TMP_SUFFIX}") if not p.is_symlink())


def clean_temp_files(store: Store) -> None:
    """Remove what a killed write left behind (call while holding the write lock)."""
    for path in stray_temp_files(store):
        path.unlink(missing_ok=True)


def check_write_paths(store: Store, paths: list[str]) -> None:
    """Refuse, before anything moves, to write any of ``paths`` through a symlink."""
    from gitassist import worktree

    for path in paths:
        worktree.check_write(store.root, path)


def write_worktree(store: Store, changes: dict[str, str | None]) -> None:
    """Write (or remove) the files and their index entries. A temporary file a killed write
    left for one of these paths is replaced; the writer lists its temporary files in the
    lock's journal (:meth:`gitassist.refs.RefDB.update`), so the next writer removes them,
    and apply sweeps the whole assistants directory (:func:`clean_temp_files`): a write
    does not list the directory."""
    from gitassist import worktree

    for path in changes:  # refuse a write through a symlink before anything moves
        worktree.check_write(store.root, path)
    index = store.repo.index
    index.read(False)
    for path, text in changes.items():
        target = worktree.prepare_write(store.root, path)
        if text is None:
            if target.exists():
                target.unlink()
            if path in index:
                index.remove(path)
        else:
            tmp = temp_path(target)
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)
            index.add(path)
    index.write()
