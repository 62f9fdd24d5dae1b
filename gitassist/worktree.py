"""Reading and writing files of the work tree without ever leaving it.

Every working-tree read gitassist makes — assistant documents, committed schemas,
``langgraph.json``, ``gitassist.yaml`` — goes through :func:`read_bytes` (or :func:`list_dir`
for the assistants folder), and every working-tree write through :func:`prepare_write`. The
path is repository-relative, made of plain names (no ``..``, not absolute), and **no component
of it may be a symbolic link**, inside or outside the tree: git stores a symlink as the text of
its target, so what ``validate`` would read through it is not what is committed, and a link
from a pull request could point at any file the runner can read. A symlink is therefore never
an assistant document, schema or configuration file; it is refused with a one-line error that
names it (exit 3) and nothing behind it is opened. The final open uses ``O_NOFOLLOW`` and
``O_NONBLOCK`` and checks the opened file is a regular file, so a link or FIFO swapped in after
the check is not read either.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from gitassist.errors import Location, UnsafePath

if TYPE_CHECKING:
    from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def path_problem(rel: str, *, portable: bool = False) -> str | None:
    """Why ``rel`` is not a plain repository-relative path (None: it is one).

    ``portable`` (for settings): also refuse what is absolute or a separator on Windows
    (``C:``, a backslash); for a file name only where it is one (``\\`` is a legal character
    in a POSIX file name)."""
    windows = portable or os.name == "nt"
    if not rel:
        return "is empty"
    if rel.startswith("/") or "\x00" in rel:
        return "must be a path relative to the repository root"
    if windows and ("\\" in rel or (len(rel) > 1 and rel[1] == ":")):
        return "must be a path relative to the repository root"
    if any(part == ".." for part in rel.split("/")):
        return "must stay inside the repository (no '..')"
    return None


def _parts(rel: str) -> list[str]:
    why = path_problem(rel)
    if why is not None:
        raise UnsafePath(f"this path {why}", location=Location(rel))
    return [p for p in rel.split("/") if p not in ("", ".")]


def _refuse_link(rel: str, shown: str) -> UnsafePath:
    kind = "this is" if shown == rel else f"{shown}, on its path, is"
    return UnsafePath(
        f"{kind} a symbolic link; gitassist reads and writes only regular files inside the "
        "work tree (a symlink is not an assistant document)",
        hint="replace the link by the file itself (git stores a link as its target's name)",
        location=Location(rel),
    )


def _walk(root: Path, rel: str) -> tuple[Path, os.stat_result | None]:
    """``root/rel`` and its lstat (None: missing), refusing a symlink on the way."""
    path = root
    parts = _parts(rel)
    st: os.stat_result | None = None
    for i, part in enumerate(parts):
        path = path / part
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return path, None
        if stat.S_ISLNK(st.st_mode):
            raise _refuse_link(rel, "/".join(parts[: i + 1]))
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            return path, None
    return path, st


def read_bytes(root: Path, rel: str) -> bytes | None:
    """The bytes of the regular file ``rel`` under ``root`` (None: there is none)."""
    path, st = _walk(root, rel)
    if st is None:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePath("not a regular file", location=Location(rel))
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a link swapped in after the check
        raise (
            _refuse_link(rel, rel)
            if _is_link(path)
            else UnsafePath(f"cannot be read ({exc.strerror})", location=Location(rel))
        ) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise UnsafePath("not a regular file", location=Location(rel))
        return fh.read()


def read_text(root: Path, rel: str, errors: str = "strict") -> str | None:
    """:func:`read_bytes` decoded as UTF-8."""
    data = read_bytes(root, rel)
    return data.decode("utf-8", errors=errors) if data is not None else None


def is_file(root: Path, rel: str) -> bool:
    """Whether ``rel`` is a regular file (a symlink on its path raises :class:`UnsafePath`)."""
    _, st = _walk(root, rel)
    return st is not None and stat.S_ISREG(st.st_mode)


def list_dir(root: Path, rel: str, suffixes: tuple[str, ...]) -> list[str] | None:
    """Names in folder ``rel`` ending in ``suffixes`` that are regular files or symlinks
    (listed so that reading one refuses it by name); None when there is no such folder."""
    path, st = _walk(root, rel)
    if st is None or not stat.S_ISDIR(st.st_mode):
        return None
    with os.scandir(path) as it:
        return sorted(
            e.name
            for e in it
            if e.name.endswith(suffixes) and (e.is_symlink() or e.is_file(follow_symlinks=False))
        )


def prepare_write(root: Path, rel: str) -> Path:
    """``root/rel``, ready to be written or removed: no component of it is a symlink (the
    file itself included), and its missing parent folders are made one at a time."""
    parts = _parts(rel)
    path = root
    for i, part in enumerate(parts):
        path = path / part
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            if i < len(parts) - 1:
                os.mkdir(path)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise _refuse_link(rel, "/".join(parts[: i + 1]))
    return path


def check_path(root: Path, rel: str) -> None:
    """Refuse ``rel`` when it leaves the repository or a component of it is a symlink (e.g. the
    assistants folder, before a listing of it)."""
    _walk(root, rel)


def check_write(root: Path, rel: str) -> None:
    """Refuse, before anything is written, a write to ``rel`` through a symlink."""
    check_path(root, rel)


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False
