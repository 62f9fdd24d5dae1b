"""The repository's ``pre-commit`` and ``commit-msg`` hooks, run for gitassist's branch commits.

gitassist builds a commit from a tree, never from the index, so ``git commit``'s hooks would
not run by themselves. For the document commits it makes on a branch (create, update, delete,
adopt) this module runs them as ``git commit`` would: from ``core.hooksPath`` (relative to the
work tree) or the repository's ``hooks`` folder, in the work tree root, with
``GIT_INDEX_FILE`` naming a temporary index that holds the new tree — so ``git diff --cached``
and ``git show :path`` in the hook see the content about to be committed, not the user's index.
``commit-msg`` gets the message file and the message it leaves is the one committed.

A hook that exits non-zero, or that changes a file in the work tree or the temporary index,
aborts the write (:class:`~gitassist.errors.HookFailed`, exit 3, with the hook's output)
before anything moves. Pointer and apply-record commits (gitassist's bookkeeping, under
``refs/assistants`` and ``refs/gitassist``) run no hook, and neither does
``reference-transaction``: gitassist writes refs itself, not through git's ref transaction.
With no hook installed the cost is one ``stat`` per hook name; no process is started.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gitassist.errors import HookFailed

if TYPE_CHECKING:
    from pygit2 import Oid

    from gitassist.store import Store

_MAX_LINES = 100  # of a hook's output, in the error
_NO_VERIFY = "pass --no-verify to commit without running the hooks (as git commit does)"


def hooks_dir(store: Store) -> Path:
    """Where git looks for hooks: ``core.hooksPath`` (``~`` expanded, relative to the work
    tree), else ``hooks`` in the common git directory (shared by every worktree)."""
    config = store.repo.config
    configured = None
    if "core.hooksPath" in config:
        configured = config["core.hooksPath"]
    if configured:
        path = Path(os.path.expanduser(configured))
        return path if path.is_absolute() else store.root / path
    return store.common_dir / "hooks"


def find_hook(store: Store, name: str) -> Path | None:
    """The executable hook ``name`` (None: none installed). One ``stat``."""
    path = hooks_dir(store) / name
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    if not st.st_mode & 0o111:
        store.warn(f"the {name} hook {path} is not executable and was ignored (as git does)")
        return None
    return path


def run_commit_hooks(store: Store, tree: Oid, message: str) -> str:
    """Run ``pre-commit`` then ``commit-msg`` for a commit of ``tree``; the message to commit
    (as ``commit-msg`` left it). Raises :class:`HookFailed` when a hook refuses."""
    pre_commit = find_hook(store, "pre-commit")
    commit_msg = find_hook(store, "commit-msg")
    if pre_commit is None and commit_msg is None:
        return message
    import pygit2

    tmp = Path(tempfile.mkdtemp(prefix="gitassist-hook-", dir=store.repo.path))
    try:
        index_path = tmp / "index"
        index = pygit2.Index(str(index_path))
        tree_obj = store.repo.get(tree)
        assert isinstance(tree_obj, pygit2.Tree)
        index.read_tree(tree_obj)
        index.write()
        env = {**os.environ, "GIT_INDEX_FILE": str(index_path), "GIT_EDITOR": ":"}
        if pre_commit is not None:
            before = _work_snapshot(store)
            _run(store, pre_commit, [], env)
            index = pygit2.Index(str(index_path))
            if str(index.write_tree(store.repo)) != str(tree):
                raise HookFailed(
                    "the pre-commit hook changed the staged content; nothing was committed",
                    [],
                    hint="run the hook's fix yourself and commit, or " + _NO_VERIFY,
                )
            changed = _changed(before, _work_snapshot(store))
            if changed:
                raise HookFailed(
                    f"the pre-commit hook changed {', '.join(changed[:5])}"
                    f"{' …' if len(changed) > 5 else ''}; nothing was committed",
                    [],
                    hint="review the hook's changes to those files, or " + _NO_VERIFY,
                )
        if commit_msg is not None:
            message = _commit_msg(store, commit_msg, message, tmp, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return message


def _commit_msg(store: Store, hook: Path, message: str, tmp: Path, env: dict[str, str]) -> str:
    msg_file = tmp / "COMMIT_EDITMSG"
    msg_file.write_text(message if message.endswith("\n") else message + "\n", encoding="utf-8")
    _run(store, hook, [str(msg_file)], env)
    left = msg_file.read_text(encoding="utf-8", errors="replace")
    lines = [line.rstrip() for line in left.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise HookFailed("the commit-msg hook left an empty message; nothing was committed", [])
    cleaned = "\n".join(lines)
    return cleaned + "\n" if message.endswith("\n") else cleaned


def _run(store: Store, hook: Path, args: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(
            [str(hook), *args],
            cwd=store.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
    except OSError as exc:
        raise HookFailed(
            f"the {hook.name} hook {hook} could not be run: {exc.strerror}", [], hint=_NO_VERIFY
        ) from None
    if done.returncode != 0:
        output = done.stdout.decode("utf-8", errors="replace").splitlines()
        if len(output) > _MAX_LINES:
            output = [*output[:_MAX_LINES], f"… ({len(output) - _MAX_LINES} more lines)"]
        raise HookFailed(
            f"the {hook.name} hook refused the commit (exit {done.returncode}); "
            "nothing was committed",
            output,
            hint="fix what it reports, or " + _NO_VERIFY,
        )


def _work_snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """Status and content hash of every changed (non-new, non-ignored) work-tree file."""
    import pygit2

    flags = pygit2.enums.FileStatus
    skip = {flags.CURRENT, flags.IGNORED, flags.WT_NEW}  # unchanged, ignored, untracked
    out = {}
    for path, status in store.repo.status().items():
        if status in skip:
            continue
        digest = ""
        with contextlib.suppress(OSError):
            file = store.root / path
            if not file.is_symlink() and file.is_file():
                digest = hashlib.sha256(file.read_bytes()).hexdigest()
        out[path] = (int(status), digest)
    return out


def _changed(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
