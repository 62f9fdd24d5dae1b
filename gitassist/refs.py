"""Compare-and-swap ref updates with reflog entries, one ref or many at once.

Every writer of gitassist's refs holds one lock (:mod:`gitassist.ref_lock`: a thread lock,
then an ``flock``) and checks each ref's old value before it writes.

Refs, ``packed-refs``, reflogs of refs, the lock and the journal live in the repository's
*common* git directory: in a linked worktree (``git worktree add``) that is the main
repository's ``.git``, not the worktree's private ``.git/worktrees/<name>`` (which holds only
that worktree's HEAD and index).
On the loose path a git-level ``<ref>.lock`` file is also taken for each ref, as git does, so
a concurrent ``git update-ref`` of the same ref fails instead of interleaving; the packed path
takes ``packed-refs.lock``. (Run ``gitassist fetch`` rather than a plain ``git fetch`` of these
refs while gitassist may be writing: it takes the gitassist lock.)

Two ways to commit:

* **loose** (``set-latest``, and the few refs of a create/update/delete): each ref is written to
  its own file, in the order given, so the cost does not grow with the number of refs in the
  repository. Callers order the refs so that an interruption is completed by the next apply.
* **packed** (``apply``, any atomic or large update): every update goes into one new
  ``packed-refs`` file
  that replaces the old one with a single ``rename``. A process killed at any moment leaves
  either all of the updates or none. Loose files of the touched refs are first folded into
  ``packed-refs`` (a change that alters no ref's value), so none can shadow the new values.

Each ``.lock`` file a writer makes is listed in the lock's journal before it is made; the
next writer, holding the lock, removes what a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from gitassist.errors import BadRef, Conflict
from gitassist.ref_lock import RepoLock, open_lock

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pygit2

ZERO: Final = "0" * 40
ANY: Final = "any"  # expected-old sentinel: do not check
LOOSE_LIMIT: Final = 8


@dataclass(frozen=True)
class RefUpdate:
    """Set ``name`` to ``new`` (hex; None deletes) if it currently is ``old``.

    ``old`` is a hex id, None for "must not exist", or :data:`ANY`.
    """

    name: str
    new: str | None
    old: str | None = ANY
    reflog: bool = True  # False for write-once refs whose object already says who and why
    message: str | None = None  # this ref's reflog message, if not the transaction's


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def reflog_stamp(self) -> str:
        offset = -time.altzone if time.daylight and time.localtime().tm_isdst else -time.timezone
        sign = "+" if offset >= 0 else "-"
        hours, minutes = divmod(abs(offset) // 60, 60)
        return f"{self.name} <{self.email}> {int(time.time())} {sign}{hours:02d}{minutes:02d}"


def _fsync_write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _clear_empty_dirs(target: str | Path, name: str) -> None:
    """Remove empty directories where the loose ref ``name`` goes (a refused ``git update-ref``
    of ``NAME/x`` leaves one), as git does; a directory that holds files is a BadRef."""
    try:
        if not stat.S_ISDIR(os.lstat(target).st_mode):  # a file, or a symlink: not ours
            return
    except OSError:
        return
    for root, _dirs, _files in sorted(os.walk(target), key=lambda t: -len(t[0])):
        try:
            os.rmdir(root)
        except OSError:
            raise BadRef(
                f"{name}: cannot write it, other refs are stored under {name}/",
                hint=f"inspect them with `git for-each-ref {name}/`; gitassist did not write them",
            ) from None


GITASSIST_PREFIXES: Final = ("refs/assistants/", "refs/gitassist/")


def common_dir(gitdir: str | os.PathLike[str]) -> Path:
    """The common git directory of the repository whose (per-worktree) git dir is ``gitdir``.

    A linked worktree's ``.git/worktrees/<name>`` holds a ``commondir`` file naming the shared
    directory (relative to itself), as ``git rev-parse --git-common-dir`` reads it.
    """
    path = Path(gitdir)
    pointer = path / "commondir"
    if pointer.is_file():
        target = pointer.read_text(encoding="utf-8").strip()
        if target:
            return (path / target).resolve()
    return path.resolve()


class RefDB(RepoLock):
    """Reads and writes refs of one repository.

    ``repo`` is either a repository or a function returning the calling thread's repository
    (pygit2 objects must not be used by two threads at once).
    """

    def __init__(
        self,
        repo: pygit2.Repository | Callable[[], pygit2.Repository],
        identity: Identity,
    ) -> None:
        self._repo = repo
        self.identity = identity
        self.gitdir = common_dir(self.repo.path)
        self.own = self.gitdir / "gitassist"

    @property
    def repo(self) -> pygit2.Repository:
        return self._repo() if callable(self._repo) else self._repo

    @repo.setter
    def repo(self, value: pygit2.Repository) -> None:
        if not callable(self._repo):  # a function already follows its owner's repository
            self._repo = value

    # ------------------------------------------------------------------ reading

    def read(self, name: str) -> str | None:
        ref = self.repo.references.get(name)
        if ref is None:
            return None
        target = ref.target
        return str(target) if not isinstance(target, str) else self.read(target)

    def listing(self, prefixes: tuple[str, ...] = GITASSIST_PREFIXES) -> dict[str, str]:
        """Every ref under ``prefixes`` and the object it names (the one place refs are
        listed; ``git ls-remote`` lists a remote's)."""
        out = {}
        for raw in self.repo.raw_listall_references():
            name = raw.decode("utf-8", "replace")
            if name.startswith(prefixes):
                oid = self.read(name)
                if oid:
                    out[name] = oid
        return out

    # ------------------------------------------------------------------ writing

    def update(
        self,
        updates: Sequence[RefUpdate],
        message: str,
        *,
        atomic: bool = False,
        during: Callable[[], None] | None = None,
        also_made: Sequence[str] = (),
    ) -> None:
        """Apply the updates: with ``atomic`` (or many refs, or a deletion) all or none even if
        the process is killed; otherwise in order, each ref compare-and-swapped.

        ``during`` runs once every ref is locked and compared, before any is written (a write
        puts its files in place there); ``also_made`` names files it may leave if killed (by
        absolute path), listed in the journal with the lock files, in one write."""
        if not updates:
            if during is not None:
                during()
            return
        names = [u.name for u in updates]
        if len(set(names)) != len(names):
            raise ValueError("a ref appears twice in one update")
        with self.lock():
            small = len(updates) <= LOOSE_LIMIT and all(u.new is not None for u in updates)
            if small and not (atomic and len(updates) > 1):
                self._update_loose(updates, message, during, also_made)
            else:
                self._update_packed(updates, message, during, also_made)

    def _check(self, updates: Sequence[RefUpdate], current: dict[str, str | None]) -> None:
        for u in updates:
            if u.old == ANY:
                continue
            have = current.get(u.name)
            if have != u.old:
                if u.old is None:
                    raise Conflict(f"{u.name} already exists (someone else wrote it first)")
                raise Conflict(
                    f"{u.name} moved since it was read (expected {u.old[:12]}, "
                    f"found {have[:12] if have else 'nothing'})",
                    hint="another writer got there first; re-run to act on the new state",
                )

    def _update_loose(
        self,
        updates: Sequence[RefUpdate],
        message: str,
        during: Callable[[], None] | None = None,
        also_made: Sequence[str] = (),
    ) -> None:
        base = f"{self.gitdir}{os.sep}"  # plain strings: this is the hot path of every write
        locks = [f"{base}{u.name}.lock" for u in updates]
        made: list[str] = []
        fds: dict[str, int] = {}
        try:
            # one journal write for the transaction, before any lock is made (a writer killed
            # while making them leaves no lock file that the journal does not name)
            self._note([p.removeprefix(base) for p in locks], also_made)
            for path in locks:
                fds[path] = open_lock(path)  # written through this descriptor below
                made.append(path)
            current = {u.name: self.read(u.name) for u in updates}
            self._check(updates, current)
            for u in updates:
                _clear_empty_dirs(f"{base}{u.name}", u.name)
            if during is not None:
                during()
            for u, path in zip(updates, locks, strict=True):
                assert u.new is not None
                fd = fds.pop(path)
                try:
                    os.write(fd, (u.new + "\n").encode())
                finally:
                    os.close(fd)
                os.rename(path, f"{base}{u.name}")
                made.remove(path)
                if u.reflog:
                    self._reflog(u.name, current[u.name], u.new, u.message or message)
        finally:
            for fd in fds.values():
                os.close(fd)
            for path in made:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            with contextlib.suppress(FileNotFoundError):
                self._journal().unlink()

    # packed-refs -----------------------------------------------------------

    def _peel(self, oid: str) -> str | None:
        import pygit2

        obj = self.repo.get(oid)
        if obj is None or obj.type != pygit2.enums.ObjectType.TAG:
            return None
        return str(obj.peel(pygit2.Commit).id)

    def _merge_packed(self, changes: dict[str, str | None]) -> tuple[bytes, dict[str, str | None]]:
        """The new ``packed-refs`` content with ``changes`` ({name: oid or None to drop})
        merged into the old file, and the touched refs' old values.

        The file is sorted by name, so this is one pass that copies every untouched line as
        bytes; only the touched refs are formatted (with their peeled line where needed).
        """
        path = self.gitdir / "packed-refs"
        data = path.read_bytes() if path.exists() else b""
        lines = data.split(b"\n")
        header = b"# pack-refs with: peeled fully-peeled sorted "
        if lines and lines[0].startswith(b"#"):
            header = lines.pop(0)
        peeled = b"peeled" in header
        pending = sorted((n.encode(), n) for n in changes)
        old: dict[str, str | None] = dict.fromkeys(changes)
        out = [header + b"\n"]
        i = 0

        def emit(name: str) -> None:
            oid = changes[name]
            if oid is None:
                return
            out.append(f"{oid} {name}\n".encode())
            peel = self._peel(oid) if peeled else None
            if peel:
                out.append(f"^{peel}\n".encode())

        skipping = False
        for line in lines:
            if not line:
                continue
            if line.startswith(b"^"):
                if not skipping:
                    out.append(line + b"\n")
                continue
            oid_bytes, _, name_bytes = line.partition(b" ")
            while i < len(pending) and pending[i][0] < name_bytes:
                emit(pending[i][1])
                i += 1
            if i < len(pending) and pending[i][0] == name_bytes:
                name = pending[i][1]
                old[name] = oid_bytes.decode()
                emit(name)
                i += 1
                skipping = True
            else:
                out.append(line + b"\n")
                skipping = False
        for _, name in pending[i:]:
            emit(name)
        return b"".join(out), old

    def _write_packed(self, content: bytes) -> None:
        lock = self.gitdir / "packed-refs.lock"
        _fsync_write(lock, content)
        os.rename(lock, self.gitdir / "packed-refs")  # the commit point

    def _update_packed(
        self,
        updates: Sequence[RefUpdate],
        message: str,
        during: Callable[[], None] | None = None,
        also_made: Sequence[str] = (),
    ) -> None:
        lock = self.gitdir / "packed-refs.lock"
        self._lock(lock, also_made)
        try:
            loose = {u.name: self.gitdir / u.name for u in updates}
            loose = {n: p for n, p in loose.items() if p.is_file()}
            if loose:
                # Phase 1: fold the touched loose refs into packed-refs (no ref changes value),
                # then drop the loose files so they cannot shadow what phase 2 writes.
                folded = {n: p.read_text().strip() for n, p in loose.items()}
                self._write_packed(self._merge_packed(dict(folded))[0])
                self._lock(lock)
                for path in loose.values():
                    path.unlink()
            content, current = self._merge_packed({u.name: u.new for u in updates})
            self._check(updates, current)
            if during is not None:
                during()
            self._write_packed(content)
        finally:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            with contextlib.suppress(FileNotFoundError):
                self._journal().unlink()
        for u in updates:
            if u.reflog:
                self._reflog(u.name, current[u.name], u.new, u.message or message)

    def _reflog(self, name: str, old: str | None, new: str | None, message: str) -> None:
        path = os.path.join(self.gitdir, "logs", name)
        if new is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        line = f"{old or ZERO} {new} {self.identity.reflog_stamp()}\t{message.splitlines()[0]}\n"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            fd = os.open(path, flags, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, flags, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
