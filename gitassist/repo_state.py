"""Whether gitassist may write this repository: its ref and object formats, and no merge,
rebase or cherry-pick in progress."""

from __future__ import annotations

import pygit2

from gitassist.errors import RepositoryError
from gitassist.refs import common_dir

_SUPPORTED_EXTENSIONS = frozenset(
    {"noop", "preciousobjects", "worktreeconfig", "objectformat"}  # libgit2 opens these
)


def unsupported_format(gitdir: str) -> str | None:
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


def check_writable(repo: pygit2.Repository) -> None:
    """Refuse to commit in the middle of a merge, rebase, cherry-pick, … (as git does)."""
    state = repo.state()
    if state == pygit2.enums.RepositoryState.NONE:
        return
    what = state.name.lower().replace("_", " ")
    raise RepositoryError(
        f"a {what} is in progress in this repository",
        hint="finish it or abort it (git status says how) before gitassist commits",
    )
