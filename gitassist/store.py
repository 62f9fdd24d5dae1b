"""The git repository: reading commits, refs and documents at a revision.

A :class:`Store` wraps one pygit2 repository. It knows where assistant documents live and
reads them from any tree (parsed documents are cached by blob id, which never goes stale).
Committing assistant files is :mod:`gitassist.commits`; the work tree and index beside it
(dirty paths, temporary files) :mod:`gitassist.checkout`; whether the repository may be
written at all :mod:`gitassist.repo_state`; who is acting :mod:`gitassist.actor`.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pygit2

from gitassist.actor import identity_from_env
from gitassist.documents import AssistantDocument, check_document, parse_document
from gitassist.errors import GitassistError, NotFound, RepositoryError
from gitassist.project import CONFIG_FILE, LANGGRAPH_JSON, Project, load_project
from gitassist.refs import RefDB, common_dir
from gitassist.repo_state import unsupported_format

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterator

    from pygit2 import Commit, Oid, Tree

    from gitassist.problems import Problem

YAML_SUFFIXES = (".yaml", ".yml")
_FILE_MODES = frozenset({pygit2.GIT_FILEMODE_BLOB, pygit2.GIT_FILEMODE_BLOB_EXECUTABLE})
_CACHE_SIZE = 50_000
T = TypeVar("T")


TREE_CACHE_LIMIT = 16 << 20


def _cache_trees() -> None:
    """Let libgit2's object cache keep trees up to 16 MB (its default is 4 KB: a tree of more
    than ~100 entries, like a large assistants folder, was read and parsed again at every
    path lookup, ~0.2 ms at 1,000 files and ~2 ms at 10,000)."""
    pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, TREE_CACHE_LIMIT)


def is_document(path: str, mode: int) -> bool:
    """Whether a tree entry under the assistants folder is an assistant document: a regular
    file (not a symlink or submodule) named ``*.yaml`` or ``*.yml``."""
    return mode in _FILE_MODES and path.endswith(YAML_SUFFIXES)


def skipped_warning(paths: list[str]) -> str:
    """One warning naming what the assistants folder holds that is not a document."""
    # a control character in a name stays escaped: a file named "x\n::error::…" must not
    # print a line of its own (a CI log would run it as a workflow command)
    names = ["".join(c if c.isprintable() else repr(c)[1:-1] for c in p) for p in sorted(paths)]
    shown = ", ".join(names[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"{len(paths)} file(s) under the assistants directory are not assistant documents "
        f"(only regular *.yaml/*.yml files are read): {shown}"
    )


def _utf8(name: str, read: Callable[[str], str | None]) -> str | None:
    """``read(name)``; a file that is not UTF-8 text is a configuration error, not a crash."""
    try:
        return read(name)
    except UnicodeDecodeError as exc:
        from gitassist.errors import ConfigError, Location

        raise ConfigError(
            f"not UTF-8 text (undecodable byte at offset {exc.start})",
            hint=f"save {name} as UTF-8",
            location=Location(name),
        ) from None


@dataclass(frozen=True)
class Entry:
    """An assistant file in a tree: its path and blob."""

    path: str
    blob: str


@dataclass(frozen=True)
class BlobInfo:
    """A parsed blob: the document, or the problems that kept it from parsing."""

    document: AssistantDocument | None
    problems: tuple[Problem, ...]


def _tune_libgit2() -> None:
    """Let libgit2 cache big trees: a 10,000-file directory is ~400 KB, over the 4 KB default."""
    pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, 16 * 1024 * 1024)
    pygit2.settings.cache_max_size(512 * 1024 * 1024)


_tune_libgit2()

TMP_SUFFIX = ".gitassist-tmp"  # a document being written (gitassist.checkout): not listed
KEEP = ".gitkeep"  # what `gitassist init` puts in the empty assistants folder: not warned about


class Store:
    """One assistant repository.

    pygit2 objects must not be used by two threads at once, so each thread that uses the
    store gets its own :class:`pygit2.Repository`; parsed documents, which are plain Python,
    are shared.
    """

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        found = pygit2.discover_repository(str(path))
        if found is None:
            raise RepositoryError(
                f"{Path(path).resolve()} is not in a git repository",
                hint="run `gitassist init` here, or pass --repo PATH",
            )
        why = unsupported_format(found)
        if why is not None:
            raise RepositoryError(
                f"gitassist does not support this repository yet: {why}",
                hint="use a repository with the default formats (git init without "
                "--ref-format/--object-format)",
            )
        self._gitdir = found
        self._local = threading.local()
        _cache_trees()
        try:
            self.repo = pygit2.Repository(found)
        except pygit2.GitError as exc:  # libgit2 cannot read it (a format it does not know)
            raise RepositoryError(
                f"gitassist cannot open this repository: {exc}",
                hint="check it with `git fsck`",
            ) from None
        if self.repo.is_bare or self.repo.workdir is None:
            raise RepositoryError(f"{found} is a bare repository; gitassist needs a work tree")
        self.root = Path(self.repo.workdir)
        self.common_dir = common_dir(self.repo.path)
        self.identity = identity_from_env(self.repo)
        self.refdb = RefDB(lambda: self.repo, self.identity)
        self._blob_cache: dict[tuple[str, str], BlobInfo] = {}
        self._records: dict[tuple[str | int | None, ...], Any] = {}  # by immutable object id
        self._blob_dirs: dict[tuple[str, str], str] = {}
        # (assistant id, graph id) of a file known without parsing it (the search index's)
        self.known_ids: Callable[[Entry], tuple[str, str] | None] | None = None
        self._project: Project | None = None
        self._projects: dict[tuple[str, ...], Project] = {}  # by (langgraph.json, yaml) blob
        self.warnings: list[str] = []  # said once each; the CLI prints them after a command
        self.environment: str | None = None  # a client bound to an environment (reads, runs)

    @property
    def repo(self) -> pygit2.Repository:
        """This thread's repository object."""
        repo: pygit2.Repository | None = getattr(self._local, "repo", None)
        if repo is None:
            repo = self._local.repo = pygit2.Repository(self._gitdir)
        return repo

    @repo.setter
    def repo(self, value: pygit2.Repository) -> None:
        self._local.repo = value

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def reopen(self) -> None:
        """Open the repository afresh, dropping libgit2's cached refs (after a ``git``
        process changed them); parsed blobs stay cached (a blob never changes)."""
        self.repo = pygit2.Repository(self.repo.path)

    # ------------------------------------------------------------------ project

    @property
    def project(self) -> Project:
        """langgraph.json and gitassist.yaml from the working tree."""
        if self._project is None:
            self._project = load_project(
                _utf8(LANGGRAPH_JSON, self._read_work), _utf8(CONFIG_FILE, self._read_work)
            )
        return self._project

    def project_at(self, commit: Commit) -> Project:
        """langgraph.json and gitassist.yaml as committed in ``commit`` (cached by blob ids):
        the configuration of every command that works on commits."""
        tree = commit.tree
        blobs = tuple(str(tree[n].id) if n in tree else "" for n in (LANGGRAPH_JSON, CONFIG_FILE))
        found = self._projects.get(blobs)
        if found is None:
            found = load_project(
                _utf8(LANGGRAPH_JSON, lambda name: self.read_path(tree, name)),
                _utf8(CONFIG_FILE, lambda name: self.read_path(tree, name)),
            )
            self._projects[blobs] = found
        return found

    def _read_work(self, name: str) -> str | None:
        return self.read_work_text(name)

    def read_work_file(self, rel: str) -> bytes | None:
        """The bytes of the working-tree file ``rel`` (None: absent): the one way gitassist
        reads the working tree. A symlink on the path, or a path that leaves the repository,
        is refused (:class:`~gitassist.errors.UnsafePath`, exit 3): :mod:`gitassist.worktree`."""
        from gitassist import worktree

        return worktree.read_bytes(self.root, rel)

    def read_work_text(self, rel: str, errors: str = "strict") -> str | None:
        """:meth:`read_work_file` decoded as UTF-8."""
        data = self.read_work_file(rel)
        return data.decode("utf-8", errors=errors) if data is not None else None

    @property
    def assistants_dir(self) -> str:
        return self.project.settings.assistants_dir

    # ------------------------------------------------------------------ revisions

    def tracked_branch(self) -> str:
        """``branch:`` from gitassist.yaml, else :meth:`default_branch`."""
        return self.project.settings.branch or self.default_branch()

    def default_branch(self) -> str:
        """The tracked branch when no gitassist.yaml names one: origin/HEAD's, else main or
        master, else the current (or unborn) branch; on a detached HEAD the only local branch
        if there is one, else ``main`` (a branch name, never the commit id HEAD holds)."""
        origin_head = self.repo.references.get("refs/remotes/origin/HEAD")
        if origin_head is not None and isinstance(origin_head.target, str):
            return origin_head.target.removeprefix("refs/remotes/origin/")
        for name in ("main", "master"):
            if self.repo.references.get(f"refs/heads/{name}") is not None:
                return name
        current = self.current_branch()
        if current is None:
            local = list(self.repo.branches.local)
            current = local[0] if len(local) == 1 else None
        return current or "main"

    def current_branch(self) -> str | None:
        if self.repo.head_is_detached:
            return None
        head = self.repo.references.get("HEAD")
        return str(head.target).removeprefix("refs/heads/") if head is not None else None

    def head_commit(self) -> Commit | None:
        if self.repo.head_is_unborn:
            return None
        return self.repo.head.peel(pygit2.Commit)

    def commit(self, rev: str) -> Commit:
        try:
            obj = self.repo.revparse_single(rev)
            return obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise NotFound(
                f"unknown revision {rev!r}", hint="use a branch, tag or commit id"
            ) from None

    def get_commit(self, oid: str | Oid) -> Commit:
        obj = self.repo.get(oid)
        if obj is None:
            raise NotFound(
                f"commit {str(oid)[:12]} is not in this repository",
                hint="fetch it (gitassist fetch) or deepen a shallow clone",
            )
        return obj.peel(pygit2.Commit)

    # ------------------------------------------------------------------ trees and blobs

    def read_path(self, tree: Tree, path: str) -> str | None:
        try:
            entry = tree[path]
        except KeyError:
            return None
        blob = self.repo.get(entry.id)
        return blob.data.decode("utf-8") if isinstance(blob, pygit2.Blob) else None

    def assistants_dirs(self, old: Tree | None, new: Tree | None) -> tuple[str, str]:
        """The assistants directory at ``old`` and at ``new``, for a diff between them.

        When the two trees hold the same ``gitassist.yaml`` (or neither has one) both are the
        working tree's setting, as everywhere else. When a commit in between changed it, each
        side's is what its own ``gitassist.yaml`` says (``assistants`` without one), so moving
        the documents to a new ``assistants_dir`` reads as a rename, not as new files.
        """
        current = self.assistants_dir
        if old is None or new is None:
            return current, current
        blobs = [self._config_blob(t) for t in (old, new)]
        if blobs[0] == blobs[1]:
            return current, current
        return self._dir_in(blobs[0]), self._dir_in(blobs[1])

    def _config_blob(self, tree: Tree) -> str | None:
        try:
            return str(tree[CONFIG_FILE].id)
        except KeyError:
            return None

    def _dir_in(self, blob: str | None) -> str:
        if blob is None:
            return "assistants"
        key = ("assistants_dir", blob)
        found = self._blob_dirs.get(key)
        if found is None:
            try:
                found = load_project(None, self.blob_text(blob)).settings.assistants_dir
            except GitassistError:  # an unreadable old config: the current setting
                found = self.assistants_dir
            self._blob_dirs[key] = found
        return found

    def assistants_tree(self, tree: Tree | None, base: str | None = None) -> Tree | None:
        """The assistants folder (``base``, default the working tree's setting) of ``tree``."""
        if tree is None:
            return None
        try:
            entry = tree[base or self.assistants_dir]
        except KeyError:
            return None
        obj = self.repo.get(entry.id)
        return obj if isinstance(obj, pygit2.Tree) else None

    def entries(
        self, tree: Tree | None, base: str | None = None, skipped: list[str] | None = None
    ) -> dict[str, Entry]:
        """Assistant files in a commit's tree, by path, in every subfolder: the one listing
        of them (``base`` is the assistants folder, default the working tree's setting).
        ``skipped`` collects what lies there and is not a document (other files, symlinks)."""
        base = base or self.assistants_dir
        sub = self.assistants_tree(tree, base)
        out: dict[str, Entry] = {}
        if sub is not None:
            self._walk(sub, base, out, skipped)
        return out

    def _walk(
        self, tree: Tree, prefix: str, out: dict[str, Entry], skipped: list[str] | None
    ) -> None:
        for item in tree:
            path = f"{prefix}/{item.name}"
            if isinstance(item, pygit2.Tree):
                self._walk(item, path, out, skipped)
            elif is_document(path, item.filemode):
                out[path] = Entry(path, str(item.id))
            elif skipped is not None and not path.endswith(TMP_SUFFIX) and item.name != KEEP:
                skipped.append(path)

    def blob_text(self, blob: str) -> str:
        obj = self.repo.get(blob)
        if not isinstance(obj, pygit2.Blob):
            raise NotFound(f"blob {blob[:12]} is missing")
        try:
            return obj.data.decode("utf-8")
        except UnicodeDecodeError:
            return obj.data.decode("utf-8", errors="replace")

    def document_text(self, blob: str) -> str:
        """A blob's text for parsing: undecodable bytes stay lone surrogates, which the
        loader refuses with their byte offset (``blob_text`` would hide them as U+FFFD)."""
        obj = self.repo.get(blob)
        if not isinstance(obj, pygit2.Blob):
            raise NotFound(f"blob {blob[:12]} is missing")
        return obj.data.decode("utf-8", errors="surrogateescape")

    def blob_info(self, entry: Entry, rev: str | None = None) -> BlobInfo:
        key = (entry.blob, entry.path)
        info = self._blob_cache.get(key)
        if info is None:
            if len(self._blob_cache) > _CACHE_SIZE:  # drop the oldest half, keep recent work
                for old in list(self._blob_cache)[: _CACHE_SIZE // 2]:
                    self._blob_cache.pop(old, None)  # another thread may have dropped it
            document, problems = check_document(self.document_text(entry.blob), entry.path, rev)
            info = BlobInfo(document, tuple(problems))
            self._blob_cache[key] = info
        return info

    def by_object(self, key: tuple[str | int | None, ...], make: Callable[[], T]) -> T:
        """``make()``, kept under ``key``: a record read from an immutable object (a version
        tag, a pointer commit) whose id is in the key; refs are never cached here."""
        if key in self._records:
            found: T = self._records[key]
            return found
        value = make()
        self.keep(key, value)
        return value

    def keep(self, key: tuple[str | int | None, ...], value: object) -> None:
        """Keep what is known of immutable objects under ``key`` (see :meth:`by_object`)."""
        if len(self._records) > _CACHE_SIZE:
            self._records.clear()
        self._records[key] = value

    def kept(self, key: tuple[str | int | None, ...]) -> object | None:
        return self._records.get(key)

    def remember(self, entry: Entry, document: AssistantDocument) -> None:
        """Take ``document`` as the parse of ``entry``: a write parsed and validated the text
        of the blob it wrote, nothing needs to parse it again."""
        self._blob_cache[(entry.blob, entry.path)] = BlobInfo(document, ())

    def document(self, entry: Entry, rev: str | None = None) -> AssistantDocument:
        info = self.blob_info(entry, rev)
        if info.document is None:
            return parse_document(self.document_text(entry.blob), entry.path, rev)  # raises
        return info.document

    def document_ids(self, entry: Entry) -> tuple[str, str] | None:
        """The assistant id and graph id of the document at ``entry`` (None: invalid)."""
        if self.known_ids is not None and (entry.blob, entry.path) not in self._blob_cache:
            known = self.known_ids(entry)
            if known is not None:
                return known
        doc = self.blob_info(entry).document
        return (doc.assistant_id, doc.graph_id) if doc is not None else None

    def documents(self, tree: Tree | None) -> Iterator[tuple[Entry, BlobInfo]]:
        for entry in self.entries(tree).values():
            yield entry, self.blob_info(entry)

    def signature(self) -> pygit2.Signature:
        return pygit2.Signature(self.identity.name, self.identity.email)

    # ------------------------------------------------------------------ git CLI

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=check
        )

    def is_shallow(self) -> bool:
        return (self.common_dir / "shallow").exists()

    def shallow_commits(self) -> set[str]:
        path = self.common_dir / "shallow"
        return set(path.read_text().split()) if path.exists() else set()
