"""The changes of a long first-parent history in one pass of git's own tree diff.

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
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from gitassist.project import CONFIG_FILE
from gitassist.store import Entry, is_document

if TYPE_CHECKING:
    from gitassist.store import Store

Changes = tuple[list[Entry], list[Entry]]
MIN_COMMITS = 64  # below this the per-commit diffs cost less than starting git
_ZERO = "0" * 40


def _document(path: str, prefix: str, mode: str) -> bool:
    """The filter of :func:`gitassist.index.changed_entries`: a document (a regular
    ``*.yaml``/``*.yml`` file, at any depth) under the assistants directory, on one side."""
    return path.startswith(prefix) and is_document(path, int(mode, 8))


def first_parent_changes(store: Store, head: str, stop: str | None) -> dict[str, Changes | None]:
    """Per commit id after ``stop`` up to ``head`` (first parents): the assistant files it
    removed-or-changed and added-or-changed against its first parent; None for a commit the
    caller must diff itself. Empty when git cannot do it (the caller diffs every commit)."""
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
    args += ["--"]
    try:
        proc = subprocess.run(args, capture_output=True, check=False)
    except OSError:
        return {}
    if proc.returncode != 0:
        return {}
    try:
        return _parse(proc.stdout.decode("utf-8", errors="surrogateescape"), store.assistants_dir)
    except (ValueError, IndexError):
        return {}


def _parse(text: str, base: str) -> dict[str, Changes | None]:
    prefix = f"{base}/"
    out: dict[str, Changes | None] = {}
    tokens = text.split("\0")
    current: Changes | None = None
    commit = ""
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip("\n")
        i += 1
        if not token:
            continue
        if token.startswith(":"):  # ":old_mode new_mode old_id new_id status", then the path
            if not commit:
                raise ValueError("a change before any commit")
            path = tokens[i]
            i += 1
            if path == CONFIG_FILE:
                out[commit] = current = None  # the assistants directory may differ: diff it
            if current is None or not path.startswith(prefix):
                continue
            old_mode, new_mode, old, new, _ = token[1:].split(" ")
            if old != _ZERO and _document(path, prefix, old_mode):
                current[0].append(Entry(path, old))
            if new != _ZERO and _document(path, prefix, new_mode):
                current[1].append(Entry(path, new))
            continue
        if len(token) != 40:
            raise ValueError(f"unexpected git log output {token[:20]!r}")
        commit = token
        current = ([], [])
        out[commit] = current
    return out
