"""The few git files the read cache looks at, read in pure Python (no pygit2).

Finds a repository as git does for the common case (a ``.git`` directory or a ``.git`` file
naming the git directory of a linked work tree; ``commondir``), reads ``HEAD`` (symbolic or
detached), loose refs and ``packed-refs`` (peeled lines skipped), and a few small files. Each
function returns None when the situation is one it does not fully understand (an environment
variable that changes how git finds things, a reftable repository, a symbolic or damaged ref,
an unreadable file): the caller then takes the ordinary path through libgit2.

Imports only the standard library's cheapest modules: this runs on every warm read.
"""

from __future__ import annotations

import os
import re

# Environment variables that change where git finds a repository, its refs or objects, or
# its configuration (git's and libgit2's); with any of them set the fast path steps aside.
_LOOKUP_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
        "GIT_NAMESPACE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_INDEX_FILE",
        "GIT_CONFIG",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_PARAMETERS",
        "GIT_REPLACE_REF_BASE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_GRAFT_FILE",
        "GIT_SHALLOW_FILE",
        "GIT_DEFAULT_HASH",
        "GIT_DEFAULT_REF_FORMAT",
        "GIT_REF_PARANOIA",
        "GIT_QUARANTINE_PATH",
    }
)
_HEX40 = re.compile(rb"[0-9a-f]{40}\Z")
_REF_NAME = re.compile(r"refs/[A-Za-z0-9._/-]+\Z")

_PACKED: dict[str, tuple[tuple[int, int, int, int], bytes]] = {}


def env_ok() -> bool:
    """Whether no environment variable changes how git finds the repository or its refs."""
    return not any(
        k in _LOOKUP_ENV or k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
        for k in os.environ
    )


def read_small(path: str, limit: int = 1 << 20) -> bytes | None:
    """A regular file's bytes (None: absent, a symlink, not a file, too big, unreadable).
    Opened non-blocking: a FIFO or a device in its place must not stop the process."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_mode & 0o170000 != 0o100000 or st.st_size > limit:
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


class GitDir:
    """A non-bare repository found from a path: its work tree, git dir and common dir."""

    __slots__ = ("common", "gitdir", "root")

    def __init__(self, root: str, gitdir: str, common: str) -> None:
        self.root = root
        self.gitdir = gitdir
        self.common = common

    def head(self) -> str | bool | None:
        """HEAD's commit id, None when HEAD is unborn, False when it cannot be read here."""
        data = read_small(os.path.join(self.gitdir, "HEAD"), 4096)
        if data is None:
            return False
        if data.startswith(b"ref: "):
            name = data[5:].strip().decode("utf-8", "replace")
            if not name.startswith("refs/heads/"):
                return False
            value = self.ref(name)
            return None if value is None else value
        oid = data.strip()
        return oid.decode("ascii") if _HEX40.match(oid) else False

    def ref(self, name: str) -> str | bool | None:
        """A shared ref's value: the loose file, else ``packed-refs``; None if it does not
        exist, False if it cannot be read here (symbolic, damaged)."""
        if not _REF_NAME.match(name) or "/." in name or ".." in name:
            return False
        loose = os.path.join(self.common, *name.split("/"))
        data = read_small(loose, 4096)
        if data is not None:
            oid = data.strip()
            return oid.decode("ascii") if _HEX40.match(oid) else False
        if os.path.lexists(loose):
            return False  # a directory or a symlink where a ref should be
        packed = self.packed()
        if packed is None:
            return False
        return packed_lookup(packed, name.encode("utf-8"))

    def packed(self) -> bytes | None:
        """The bytes of ``packed-refs`` (b"" when there is none), kept while its stat data
        stays the same; None if it cannot be read."""
        path = os.path.join(self.common, "packed-refs")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return b""
        except OSError:
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        known = _PACKED.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        data = read_small(path, 1 << 30)
        if data is None:
            return None
        _PACKED[path] = (stamp, data)
        return data

    def packed_stamp(self) -> list[int] | None:
        """``packed-refs``' stat data (git's own test for "unchanged": it is only ever
        replaced by a rename), [] when there is none; None if it cannot be read."""
        try:
            st = os.stat(os.path.join(self.common, "packed-refs"))
        except FileNotFoundError:
            return []
        except OSError:
            return None
        return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]

    def loose_refs(self, prefix: str) -> list[tuple[str, str]] | None:
        """Every loose ref under ``prefix`` (a directory under the common dir, e.g.
        ``refs/assistants/<id>``) as sorted (name, value) pairs; None if one cannot be read."""
        top = os.path.join(self.common, *prefix.split("/"))
        out: list[tuple[str, str]] = []
        stack = [(top, prefix)]
        while stack:
            folder, name = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            except OSError:
                return None
            for entry in entries:
                full = f"{name}/{entry.name}"
                if entry.is_symlink():
                    return None
                if entry.is_dir():
                    stack.append((entry.path, full))
                    continue
                if entry.name.endswith(".lock"):
                    continue
                data = read_small(entry.path, 4096)
                oid = data.strip() if data is not None else b""
                if not _HEX40.match(oid):
                    return None
                out.append((full, oid.decode("ascii")))
        out.sort()
        return out


def packed_lookup(data: bytes, name: bytes) -> str | None:
    """The value of ``name`` in packed-refs ``data`` (None: not there)."""
    needle = b" " + name + b"\n"
    at = data.find(needle)
    while at >= 0:
        start = at - 40
        if start >= 0 and (start == 0 or data[start - 1 : start] == b"\n"):
            oid = data[start:at]
            if _HEX40.match(oid):
                return oid.decode("ascii")
        at = data.find(needle, at + 1)
    return None


def packed_under(data: bytes, prefix: bytes) -> list[tuple[str, str]]:
    """Every (name, value) in packed-refs ``data`` whose name starts with ``prefix``."""
    out = []
    needle = b" " + prefix
    at = data.find(needle)
    while at >= 0:
        start = at - 40
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        if start >= 0 and (start == 0 or data[start - 1 : start] == b"\n"):
            oid = data[start:at]
            if _HEX40.match(oid):
                name = data[at + 1 : end].rstrip(b"\r").decode("utf-8", "replace")
                out.append((name, oid.decode("ascii")))
        at = data.find(needle, end)
    return out


def discover(start: str) -> GitDir | None:
    """The repository ``start`` is in, found as git finds it (walking up to a ``.git``
    directory or file, not across file systems); None for anything else (a bare
    repository, reftable, an environment that changes the search, a path inside ``.git``)."""
    if not env_ok():
        return None
    try:
        here = os.path.realpath(start)
        device = os.stat(here).st_dev
    except OSError:
        return None
    if ".git" in here.split(os.sep):
        return None
    while True:
        dotgit = os.path.join(here, ".git")
        try:
            st = os.lstat(dotgit)
        except FileNotFoundError:
            st = None
        except OSError:
            return None
        if st is not None:
            return _open(here, dotgit, st.st_mode)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        try:
            if os.stat(parent).st_dev != device:
                return None
        except OSError:
            return None
        here = parent


def _open(root: str, dotgit: str, mode: int) -> GitDir | None:
    if mode & 0o170000 == 0o040000:
        gitdir = dotgit
    elif mode & 0o170000 == 0o100000:
        data = read_small(dotgit, 4096)
        if data is None or not data.startswith(b"gitdir: "):
            return None
        target = data[8:].strip().decode("utf-8", "surrogateescape")
        gitdir = os.path.realpath(os.path.join(root, target))
    else:
        return None
    common = gitdir
    pointer = read_small(os.path.join(gitdir, "commondir"), 4096)
    if pointer is not None:
        common = os.path.realpath(
            os.path.join(gitdir, pointer.strip().decode("utf-8", "surrogateescape"))
        )
    if not os.path.isfile(os.path.join(gitdir, "HEAD")) or not os.path.isdir(
        os.path.join(common, "objects")
    ):
        return None
    if os.path.lexists(os.path.join(common, "reftable")):
        return None
    if not _owned(root, gitdir, common):
        return None  # libgit2 refuses a repository another user owns (safe.directory)
    return GitDir(root, gitdir, common)


def _owned(*paths: str) -> bool:
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    try:
        return uid is None or all(os.stat(p).st_uid == uid for p in paths)
    except OSError:
        return False
