"""The changes of a long first-parent history in one pass of git's own tree diff, and what
the planner needs to know of every document blob it names (:class:`BlobFacts`).

Planning the first ``apply`` of a long history diffs every commit against its first parent.
With libgit2 that is one lookup of two large ``assistants/`` trees and a diff per commit
(~4 ms a commit at 10,000 assistants, most of it inflating delta-compressed tree objects
again and again). ``git log --raw --first-parent`` does the same diffs in one process, with
git's delta-base cache, at a fraction of the cost; this module runs it once and reads its
output into the same ``(removed, added)`` entry lists :func:`gitassist.index.changed_entries`
returns.

Only what the output decides exactly is used: a commit that changes ``gitassist.yaml`` (whose
diff may compare two different assistants directories) is left to the caller's per-commit
diff, and so is every commit when git is missing, too old, or fails. The result is then the
same as the per-commit diff's (tests/test_history.py compares them).

The walk then needs, per blob, only the assistant id, graph id, name and content key of the
document (or why it is invalid): :class:`Facts`, the same for every path the blob is found
at, so each distinct blob is parsed once per plan. A long walk (Linux, more than one core)
uses every core: the range is split into one ``git log`` segment per core, read together, and
the blobs their output names are parsed by forked worker processes while git is still
writing (git's diff and the parse are most of the work). The workers run the very same
:func:`gitassist.documents.check_document`, so the facts are those of an in-process parse; a
worker that dies only loses its share, which is then parsed here.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitassist.project import CONFIG_FILE
from gitassist.store import Entry, is_document

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Future, ProcessPoolExecutor

    import pygit2

    from gitassist.documents import AssistantDocument
    from gitassist.problems import Problem
    from gitassist.store import Store

Changes = tuple[list[Entry], list[Entry]]
MIN_COMMITS = 64  # below this the per-commit diffs cost less than starting git
PARALLEL_COMMITS = 2_000  # from here on the blobs are parsed by worker processes
MAX_WORKERS = 4
BATCH = 512  # blobs per worker task
_ZERO = "0" * 40


@dataclass(frozen=True, slots=True)
class Facts:
    """What planning needs of one document blob; ``assistant_id`` None: it is invalid, and
    ``problem`` says why (the first problem's message, which names no path)."""

    assistant_id: str | None
    graph_id: str = ""
    name: str = ""
    key: str = ""  # the content key: equal keys, same version
    problem: str = ""


def facts_of(document: AssistantDocument | None, problems: tuple[Problem, ...]) -> Facts:
    if document is None:
        return Facts(None, problem=problems[0].message if problems else "")
    return Facts(document.assistant_id, document.graph_id, document.name, document.content_key())


class BlobFacts:
    """The facts of the blobs of one plan, by blob id. A blob not prefetched is parsed here,
    through the store's cache (whose documents later steps, such as validation, reuse)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: dict[str, Facts] = {}

    def get(self, entry: Entry) -> Facts:
        facts = self.known.get(entry.blob)
        if facts is None:
            info = self.store.blob_info(entry)
            facts = self.known[entry.blob] = facts_of(info.document, info.problems)
        return facts

    def ids(self, entry: Entry) -> tuple[str, str] | None:
        """Like :meth:`gitassist.store.Store.document_ids`."""
        facts = self.get(entry)
        return (facts.assistant_id, facts.graph_id) if facts.assistant_id is not None else None


def _document(path: str, prefix: str, mode: str) -> bool:
    """The filter of :func:`gitassist.index.changed_entries`: a document (a regular
    ``*.yaml``/``*.yml`` file, at any depth) under the assistants directory, on one side."""
    return path.startswith(prefix) and is_document(path, int(mode, 8))


def _log_args(store: Store, head: str, stop: str | None) -> list[str]:
    args = [
        "git",
        "--no-replace-objects",  # the objects pygit2 reads, not replacements
        "--git-dir",
        store.repo.path,
        "-c",
        "log.showSignature=false",
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--root",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--no-color",
        "--no-ext-diff",
        "--format=%H",
        head,
    ]
    if stop is not None:
        args += [f"^{stop}"]
    return [*args, "--"]


def first_parent_changes(
    store: Store,
    head: str,
    stop: str | None,
    facts: BlobFacts | None = None,
    bounds: Sequence[str] = (),
) -> dict[str, Changes | None]:
    """Per commit id after ``stop`` up to ``head`` (first parents): the assistant files it
    removed-or-changed and added-or-changed against its first parent; None for a commit the
    caller must diff itself. Empty when git cannot do it (the caller diffs every commit).

    ``bounds`` (first-parent commits between, oldest first) split the range into segments
    that as many ``git log`` processes diff at once. With ``facts``, the blobs named are
    parsed meanwhile by worker processes (when the machine has more than one core) and
    their facts added to it."""
    points = [stop, *bounds, head]
    pool = worker_pool() if facts is not None else None
    shared = _Parser(store.assistants_dir)
    pending: list[Future[list[tuple[str, Facts]]]] = []
    handing = pool is not None  # False once a worker died: the rest is parsed in process
    procs: list[subprocess.Popen[bytes]] = []
    try:
        streams: dict[int, _Parser] = {}
        for bottom, top in itertools.pairwise(points):
            assert top is not None
            try:
                proc = subprocess.Popen(
                    _log_args(store, top, bottom),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                return {}
            procs.append(proc)
            assert proc.stdout is not None
            streams[proc.stdout.fileno()] = shared.segment()
        while streams:
            for fd in _ready(list(streams)):
                parser = streams[fd]
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    parser.feed([parser.rest])
                    del streams[fd]
                    continue
                tokens = (parser.rest + chunk).split(b"\0")
                parser.rest = tokens.pop()
                parser.feed(tokens)
                if handing and len(shared.blobs) >= BATCH:
                    handing = _hand_out(pool, pending, store, shared.take())
        for proc in procs:
            proc.wait()
        if any(proc.returncode != 0 for proc in procs) or shared.failed:
            return {}
        if pool is not None and facts is not None:
            if handing and shared.blobs:
                _hand_out(pool, pending, store, shared.take())
            _collect(pending, facts)
        return shared.out
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _hand_out(
    pool: ProcessPoolExecutor | None,
    pending: list[Future[list[tuple[str, Facts]]]],
    store: Store,
    items: list[tuple[str, str]],
) -> bool:
    """Give ``items`` to the workers; False if they cannot take more (one died, killed or
    out of memory, which breaks the pool): those and the rest are parsed in process."""
    from concurrent.futures.process import BrokenProcessPool

    assert pool is not None
    try:
        pending.append(pool.submit(_facts_task, store.repo.path, items))
    except (BrokenProcessPool, OSError):  # OSError: the fork failed (no memory, no pids)
        return False
    return True


def _ready(fds: list[int]) -> list[int]:
    """The pipes with output (or at their end), waiting for one."""
    if len(fds) == 1:
        return fds  # a blocking read waits for it
    import selectors

    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        return [key.fd for key, _ in selector.select()]


def segments(commit_ids: Sequence[str], parts: int) -> list[str]:
    """Bounds splitting a walk (oldest first) into ``parts`` segments of equal length."""
    step = len(commit_ids) // max(parts, 1)
    return [commit_ids[i * step - 1] for i in range(1, parts)] if step else []


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parallel() -> int:
    """How many processes (``git log`` segments, workers) a long walk may use at once: the
    cores, on Linux; one elsewhere (macOS system libraries are not safe to use after a bare
    fork, and Windows cannot wait on several pipes at once)."""
    return cores() if sys.platform.startswith("linux") else 1


def worker_pool() -> ProcessPoolExecutor | None:
    """Forked worker processes, one per core (at most :data:`MAX_WORKERS`), or None: one
    core, not Linux (:func:`parallel`), or other threads running (forking a threaded process
    may copy a lock some thread holds)."""
    import multiprocessing

    count = parallel()
    if count < 2 or threading.active_count() > 1 or _prctl() is None:
        return None
    from concurrent.futures import ProcessPoolExecutor

    try:
        return ProcessPoolExecutor(
            min(count, MAX_WORKERS),
            multiprocessing.get_context("fork"),
            initializer=_die_with,
            initargs=(os.getpid(),),
        )
    except OSError:  # no working semaphores (a container without /dev/shm): in process
        return None


def _prctl() -> Any:
    """libc's ``prctl``, or None."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _die_with(parent: int) -> None:
    """(In a worker, first.) Be killed when the parent dies: a forked worker holds copies of
    the parent's descriptors, the write lock's among them, and would keep an apply killed
    mid-way locked for as long as it waited for work that never comes. Ctrl-C reaches the
    whole process group; the parent handles it (and its end ends the workers)."""
    import signal

    _prctl()(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if os.getppid() != parent:  # the parent died before that
        os._exit(1)


def _collect(pending: list[Future[list[tuple[str, Facts]]]], facts: BlobFacts) -> None:
    for result in pending:
        try:
            found = result.result()
        except Exception:  # a failed worker only loses its prefetch: the blobs are
            continue  # parsed in process then, where any error is raised as usual
        for blob, fact in found:
            facts.known.setdefault(blob, fact)


_REPOS: dict[str, pygit2.Repository] = {}  # a worker's repositories


def _facts_task(gitdir: str, items: list[tuple[str, str]]) -> list[tuple[str, Facts]]:
    """(In a worker.) The facts of each (blob, path), as :meth:`BlobFacts.get` makes them."""
    import pygit2

    from gitassist.documents import check_document

    repo = _REPOS.get(gitdir)
    if repo is None:
        repo = _REPOS[gitdir] = pygit2.Repository(gitdir)
    out = []
    for blob, path in items:
        obj = repo.get(blob)
        if not isinstance(obj, pygit2.Blob):
            continue  # missing: the planner finds it missing itself
        text = obj.data.decode("utf-8", errors="surrogateescape")  # as Store.document_text
        document, problems = check_document(text, path)
        out.append((blob, facts_of(document, tuple(problems))))
    return out


class _Parser:
    """``git log --raw -z --format=%H`` output, token by token, as it arrives."""

    def __init__(self, base: str) -> None:
        self.prefix = f"{base}/"
        self.out: dict[str, Changes | None] = {}
        self.blobs: dict[str, str] = {}  # blob -> a path, not yet handed out
        self.seen: set[str] = set()
        self.failed = False
        self._current: Changes | None = None
        self._commit = ""
        self._change: str | None = None  # a change line whose path comes next
        self._shared = self
        self.rest = b""  # an incomplete last token

    def segment(self) -> _Parser:
        """A parser of another ``git log``'s output, adding to this one's results."""
        other = _Parser(self.prefix[:-1])
        other.out, other.blobs, other.seen, other._shared = self.out, self.blobs, self.seen, self
        return other

    def take(self) -> list[tuple[str, str]]:
        items = list(self.blobs.items())
        self.blobs.clear()
        return items

    def _blob(self, blob: str, path: str) -> None:
        if blob not in self.seen:
            self.seen.add(blob)
            self.blobs[blob] = path

    def feed(self, raw: list[bytes]) -> None:
        if self._shared.failed:
            return
        try:
            for item in raw:
                self._token(item.decode("utf-8", errors="surrogateescape"))
        except (ValueError, IndexError):
            self._shared.failed = True

    def _token(self, raw: str) -> None:
        if self._change is not None:  # ":old_mode new_mode old_id new_id status", then path
            change, self._change, path = self._change, None, raw
            if path == CONFIG_FILE:
                self.out[self._commit] = self._current = None  # the directory may differ
            current = self._current
            if current is None or not path.startswith(self.prefix):
                return
            old_mode, new_mode, old, new, _ = change[1:].split(" ")
            if old != _ZERO and _document(path, self.prefix, old_mode):
                current[0].append(Entry(path, old))
                self._blob(old, path)
            if new != _ZERO and _document(path, self.prefix, new_mode):
                current[1].append(Entry(path, new))
                self._blob(new, path)
            return
        token = raw.lstrip("\n")
        if not token:
            return
        if token.startswith(":"):
            if not self._commit:
                raise ValueError("a change before any commit")
            self._change = token
            return
        if len(token) != 40:
            raise ValueError(f"unexpected git log output {token[:20]!r}")
        self._commit = token
        self._current = ([], [])
        self.out[token] = self._current
