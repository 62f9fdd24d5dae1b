"""The git repository: reading documents at a revision, committing assistant files.

A :class:`Store` wraps one pygit2 repository. It knows where assistant documents live, reads
them from any tree (parsed documents are cached by blob id, which never goes stale), and
commits changes to assistant files without touching the user's other work: the new tree is
built from the branch's tree, not from the index, and the working tree and index are updated
only for the file that changed.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2

from gitassist.documents import AssistantDocument, check_document, parse_document
from gitassist.errors import GitassistError, NotFound, RepositoryError
from gitassist.project import CONFIG_FILE, LANGGRAPH_JSON, Project, load_project
from gitassist.refs import Identity, RefDB, common_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pygit2 import Commit, Oid, Tree

    from gitassist.problems import Problem

YAML_SUFFIXES = (".yaml", ".yml")
_FILE_MODES = frozenset({pygit2.GIT_FILEMODE_BLOB, pygit2.GIT_FILEMODE_BLOB_EXECUTABLE})
_CACHE_SIZE = 50_000


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


def identity_from_env(repo: pygit2.Repository) -> Identity:
    """Who is acting: GIT_COMMITTER_* / GIT_AUTHOR_*, git config, then a fallback."""
    name = os.environ.get("GIT_COMMITTER_NAME") or os.environ.get("GIT_AUTHOR_NAME")
    email = os.environ.get("GIT_COMMITTER_EMAIL") or os.environ.get("GIT_AUTHOR_EMAIL")
    config = repo.config
    if not name and "user.name" in config:
        name = config["user.name"]
    if not email and "user.email" in config:
        email = config["user.email"]
    if not name:
        name = os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "gitassist"
    if not email:
        email = f"{name}@users.noreply.gitassist"
    return Identity(name, email)


def parse_author(author: str | None) -> pygit2.Signature | None:
    """``"Name <email>"`` as a git signature (None: the committer's identity)."""
    if not author:
        return None
    name, sep, rest = author.partition("<")
    email = rest.rstrip().removesuffix(">").strip()
    if not sep or not name.strip() or "@" not in email or not rest.rstrip().endswith(">"):
        from gitassist.errors import ValidationFailed

        raise ValidationFailed(f"author must look like 'Name <email>', not {author!r}", [])
    return pygit2.Signature(name.strip(), email)


def ci_context() -> dict[str, str]:
    """The CI run that is acting, when the environment says so (GitHub Actions, GitLab, …)."""
    env = os.environ
    if env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY", "")
        return {
            "system": "github-actions",
            "run_id": env["GITHUB_RUN_ID"],
            "url": f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}",
        }
    if env.get("CI_PIPELINE_ID"):
        return {
            "system": "gitlab",
            "run_id": env["CI_PIPELINE_ID"],
            "url": env.get("CI_PIPELINE_URL", ""),
        }
    return {}


def _tune_libgit2() -> None:
    """Let libgit2 cache big trees: a 10,000-file directory is ~400 KB, over the 4 KB default."""
    pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, 16 * 1024 * 1024)
    pygit2.settings.cache_max_size(512 * 1024 * 1024)


_tune_libgit2()


_SUPPORTED_EXTENSIONS = frozenset(
    {"noop", "preciousobjects", "worktreeconfig", "objectformat"}  # libgit2 opens these
)
TMP_SUFFIX = ".gitassist-tmp"
KEEP = ".gitkeep"  # what `gitassist init` puts in the empty assistants folder: not warned about


def _temp_path(target: Path) -> Path:
    """Where a document is written before it replaces ``target``: ``.NAME.gitassist-tmp``
    beside it, or ``.HASH.gitassist-tmp`` when that would be too long a file name (a name
    near the file system's 255 bytes is a valid document name)."""
    name = f".{target.name}{TMP_SUFFIX}"
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        import hashlib

        digest = hashlib.sha1(target.name.encode("utf-8", "surrogateescape")).hexdigest()
        name = f".{digest}{TMP_SUFFIX}"
    return target.with_name(name)


def _unsupported_format(gitdir: str) -> str | None:
    """Why gitassist cannot write this repository's refs or objects (None: it can).

    gitassist writes loose refs and ``packed-refs`` itself, with SHA-1 ids: a reftable ref
    store or a SHA-256 object format would be silently corrupted, so both are refused.
    """
    path = common_dir(gitdir) / "config"
    if not path.is_file():
        return None
    try:
        config = pygit2.Config(str(path))
    except pygit2.GitError:
        return None
    values = {entry.name.lower(): entry.value or "" for entry in config}
    if values.get("core.repositoryformatversion", "0") == "0":
        return None  # git ignores extensions.* in a version-0 repository
    storage = values.get("extensions.refstorage", "files").lower()
    if storage != "files":
        return f"its refs are stored as {storage!r} (extensions.refStorage)"
    objects = values.get("extensions.objectformat", "sha1").lower()
    if objects != "sha1":
        return f"its object format is {objects!r} (extensions.objectFormat)"
    unknown = sorted(
        name.removeprefix("extensions.")
        for name in values
        if name.startswith("extensions.")
        and name.removeprefix("extensions.") not in _SUPPORTED_EXTENSIONS | {"refstorage"}
    )
    if unknown:
        return f"it uses the repository extension(s) {', '.join(unknown)}"
    return None


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
        why = _unsupported_format(found)
        if why is not None:
            raise RepositoryError(
                f"gitassist does not support this repository yet: {why}",
                hint="use a repository with the default formats (git init without "
                "--ref-format/--object-format)",
            )
        self._gitdir = found
        self._local = threading.local()
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

    def check_writable(self) -> None:
        """Refuse to commit in the middle of a merge, rebase, cherry-pick, … (as git does)."""
        state = self.repo.state()
        if state == pygit2.enums.RepositoryState.NONE:
            return
        what = state.name.lower().replace("_", " ")
        raise RepositoryError(
            f"a {what} is in progress in this repository",
            hint="finish it or abort it (git status says how) before gitassist commits",
        )

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
        configured = self.project.settings.branch
        if configured:
            return configured
        origin_head = self.repo.references.get("refs/remotes/origin/HEAD")
        if origin_head is not None and isinstance(origin_head.target, str):
            return origin_head.target.removeprefix("refs/remotes/origin/")
        for name in ("main", "master"):
            if self.repo.references.get(f"refs/heads/{name}") is not None:
                return name
        if not self.repo.head_is_unborn and not self.repo.head_is_detached:
            return self.repo.head.shorthand
        head = self.repo.references.get("HEAD")
        target = head.target if head is not None else "refs/heads/main"
        return str(target).removeprefix("refs/heads/")

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

    # ------------------------------------------------------------------ working tree

    def dirty_paths(self, paths: list[str] | None = None) -> list[str]:
        """Paths with uncommitted changes (staged or not), limited to ``paths`` if given."""
        flags = pygit2.enums.FileStatus
        clean = {flags.CURRENT, flags.IGNORED}
        if paths is None:
            return [p for p, s in self.repo.status().items() if s not in clean]
        # For a few paths, ask for each path's status: no scan of the whole working tree.
        # git's status applies the checkout filters (core.autocrlf, .gitattributes eol/text),
        # so a file checked out with CRLF from an LF blob is clean, as `git status` says.
        out = []
        for path in paths:
            try:
                status = self.repo.status_file(path)
            except KeyError:  # in none of HEAD, index, work tree
                continue
            except (ValueError, pygit2.GitError):  # ambiguous (case-folding file system)
                out.append(path)
                continue
            if status not in clean:
                out.append(path)
        return out

    def stray_temp_files(self) -> list[Path]:
        """Temporary files a killed gitassist write left in the assistants directory."""
        base = self.root / self.assistants_dir
        if base.is_symlink() or not base.is_dir():  # never clean up outside the repository
            return []
        return sorted(p for p in base.rglob(f".*{TMP_SUFFIX}") if not p.is_symlink())

    def clean_temp_files(self) -> None:
        """Remove what a killed write left behind (call while holding the write lock)."""
        for path in self.stray_temp_files():
            path.unlink(missing_ok=True)

    def write_commit(
        self,
        branch: str,
        parent: Commit | None,
        changes: dict[str, str | None],
        message: str,
        author: pygit2.Signature | None = None,
    ) -> Commit:
        """Commit ``changes`` ({path: text or None to delete}) on top of ``parent`` and publish
        it on ``branch`` (see :meth:`make_commit` and :meth:`publish`)."""
        commit = self.make_commit(parent, changes, message, author)
        self.publish(branch, parent, commit, changes)
        return commit

    def make_commit(
        self,
        parent: Commit | None,
        changes: dict[str, str | None],
        message: str,
        author: pygit2.Signature | None = None,
        *,
        hooks: bool = False,
    ) -> Commit:
        """A commit object of ``changes`` on top of ``parent``; no ref or file moves yet.

        The tree is built from ``parent``'s tree, never from the index, so the user's staged
        work is not swept in. With ``hooks``, the repository's ``pre-commit`` and
        ``commit-msg`` hooks run on that tree first (:mod:`gitassist.hooks`).
        """
        repo = self.repo
        builder_tree = parent.tree if parent is not None else None
        new_tree = self._tree_with(builder_tree, changes) or self.repo.TreeBuilder().write()
        if hooks:
            from gitassist.hooks import run_commit_hooks

            message = run_commit_hooks(self, new_tree, message)
        committer = self.signature()
        commit_oid = repo.create_commit(
            None,
            author or committer,
            committer,
            message,
            new_tree,
            [parent.id] if parent is not None else [],
        )
        return self.get_commit(commit_oid)

    def publish(
        self, branch: str, parent: Commit | None, commit: Commit, changes: dict[str, str | None]
    ) -> None:
        """Bring the working tree and the index in line for the changed paths, then move
        ``branch`` from ``parent`` to ``commit`` (compare-and-swap).

        In that order, an interruption leaves the change staged (nothing lost, nothing half
        committed); if the branch moved meanwhile, the files are put back as they were.
        """
        from gitassist.refs import RefUpdate

        old = str(parent.id) if parent is not None else None
        summary = commit.message.splitlines()[0] if commit.message else ""
        before = {path: self.read_work_text(path) for path in changes}
        self.write_worktree(changes)
        try:
            self.refdb.update(
                [RefUpdate(f"refs/heads/{branch}", str(commit.id), old)], f"commit: {summary}"
            )
        except BaseException:
            self.write_worktree(before)
            raise

    def signature(self) -> pygit2.Signature:
        return pygit2.Signature(self.identity.name, self.identity.email)

    def _tree_with(self, tree: Tree | None, changes: dict[str, str | None]) -> Oid | None:
        """A new tree equal to ``tree`` with ``changes`` applied (paths may be nested)."""
        repo = self.repo
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
                builder.insert(
                    name, repo.create_blob(text.encode("utf-8")), pygit2.GIT_FILEMODE_BLOB
                )
        for name, sub_changes in grouped.items():
            existing = builder.get(name)
            sub_tree = repo.get(existing.id) if existing is not None else None
            sub_oid = self._tree_with(
                sub_tree if isinstance(sub_tree, pygit2.Tree) else None, sub_changes
            )
            if sub_oid is None:
                if existing is not None:
                    builder.remove(name)
            else:
                builder.insert(name, sub_oid, pygit2.GIT_FILEMODE_TREE)
        return builder.write() if len(builder) else None

    def check_write_paths(self, paths: list[str]) -> None:
        """Refuse, before anything moves, to write any of ``paths`` through a symlink."""
        from gitassist import worktree

        for path in paths:
            worktree.check_write(self.root, path)

    def write_worktree(self, changes: dict[str, str | None]) -> None:
        self.clean_temp_files()
        from gitassist import worktree

        for path in changes:  # refuse a write through a symlink before anything moves
            worktree.check_write(self.root, path)
        index = self.repo.index
        index.read(False)
        for path, text in changes.items():
            target = worktree.prepare_write(self.root, path)
            if text is None:
                if target.exists():
                    target.unlink()
                if path in index:
                    index.remove(path)
            else:
                tmp = _temp_path(target)
                tmp.unlink(missing_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, target)
                index.add(path)
        index.write()

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
