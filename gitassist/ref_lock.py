"""The repository's gitassist write lock, and the journal of the git ``.lock`` files made
under it.

Two levels: a per-repository ``threading.RLock`` (re-entrant in the thread that holds it;
other threads of the process wait for it), then ``.git/gitassist/lock``, an ``flock`` that the
kernel releases when a process dies (other processes wait for it). Both are keyed by the
*common* git directory, so linked worktrees share them.

Each ``.lock`` file a writer makes is listed in ``.git/gitassist/journal`` before it is made; the
next writer, holding the lock, removes what a killed writer left behind (a listed lock file older
than the journal's last write belongs to another program and is kept). The ref writer that uses
this is :class:`gitassist.refs.RefDB`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from typing import TYPE_CHECKING, Final

from gitassist.errors import Conflict

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

LOCK_TIMEOUT: Final = 30.0


def create_lock(path: str | Path) -> None:
    """Make the git lock file ``path`` (its folder too), or :class:`Conflict` if it exists."""
    os.close(open_lock(path))


def open_lock(path: str | Path) -> int:
    """:func:`create_lock`, keeping the file open for writing: its descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        try:
            return os.open(path, flags, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return os.open(path, flags, 0o644)
    except FileExistsError:
        raise Conflict(
            f"{os.path.basename(path)} is locked by another process",
            hint=f"if no git or gitassist process is running, remove {path}",
        ) from None


class _ThreadLock:
    """The in-process half of a repository's write lock (one per common git directory)."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0  # changed only by the thread holding ``rlock``


class _Registry:
    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.locks: dict[str, _ThreadLock] = {}


_REGISTRY = _Registry()


def _thread_lock(gitdir: Path) -> _ThreadLock:
    key = str(gitdir)
    with _REGISTRY.guard:
        lock = _REGISTRY.locks.get(key)
        if lock is None:
            lock = _REGISTRY.locks[key] = _ThreadLock()
        return lock


def _reset_after_fork() -> None:
    """A forked child holds no lock, whatever its parent's other threads held."""
    _REGISTRY.__init__()  # type: ignore[misc]


os.register_at_fork(after_in_child=_reset_after_fork)


class RepoLock:
    """The write lock of the repository whose common git directory is ``gitdir`` (a base of
    :class:`gitassist.refs.RefDB`); ``own`` is gitassist's folder in it."""

    gitdir: Path
    own: Path

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold the repository's gitassist write lock: first the process's per-repository
        thread lock (re-entrant in this thread), then the cross-process ``flock``."""
        with self.thread_lock(timeout):
            held = _thread_lock(self.gitdir)
            if held.depth:
                held.depth += 1
                try:
                    yield
                finally:
                    held.depth -= 1
                return
            with self._flock(timeout):
                held.depth = 1
                try:
                    yield
                finally:
                    held.depth = 0
            from gitassist.housekeeping import after_write

            after_write(self.gitdir)  # pack loose objects past gc.auto, detached, unlocked

    @contextlib.contextmanager
    def thread_lock(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Only the process's per-repository thread lock (re-entrant): this process's writers
        queue behind it; another process is not waited for (its moves stay compare-and-swap)."""
        held = _thread_lock(self.gitdir)
        if not held.rlock.acquire(timeout=timeout):
            raise Conflict(
                "another thread of this process is writing to this repository",
                hint="wait for it to finish and try again",
            )
        try:
            yield
        finally:
            held.rlock.release()

    @contextlib.contextmanager
    def _flock(self, timeout: float) -> Iterator[None]:
        self.own.mkdir(exist_ok=True)
        fd = os.open(self.own / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise Conflict(
                            "another gitassist process is writing to this repository",
                            hint="wait for it to finish and try again",
                        ) from None
                    time.sleep(0.01)
            self._recover()
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _journal(self) -> Path:
        return self.own / "journal"

    def _recover(self) -> None:
        """Remove lock files that a killed gitassist writer left behind."""
        journal = self._journal()
        try:
            written = os.stat(journal).st_mtime_ns
        except FileNotFoundError:
            return
        for line in journal.read_text().splitlines():
            path = self.gitdir / line
            if line.endswith(".lock"):
                # noted before it was taken (:meth:`_lock`): a lock file older than the journal's
                # last write existed before the writer noted it, so another program holds it
                try:
                    if os.lstat(path).st_mtime_ns < written:
                        continue
                except FileNotFoundError:
                    continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        journal.unlink()

    def _lock(self, path: Path, also_made: Sequence[str] = ()) -> None:
        """Note a git lock file in the journal, then take it: a writer killed in between leaves
        a journal line and no file, never a lock file no journal names (which would block every
        later write until removed by hand)."""
        self._note([str(path.relative_to(self.gitdir))], also_made)
        create_lock(path)

    def _note(self, made: Sequence[str], also_made: Sequence[str] = ()) -> None:
        """One append to the journal: lock files made (relative to the git directory) and
        other files a killed writer may leave (absolute paths)."""
        lines = [*made, *also_made]
        if lines:
            with open(self._journal(), "a", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
