"""Sharing gitassist's refs with a git remote: fetch them, push them atomically with a lease.

Refs travel as ordinary git refs (``refs/assistants/*``, ``refs/gitassist/*``), so any git
host stores them. Pushes are ``git push --atomic`` with ``--force-with-lease`` on every ref
at the value fetched just before: when two CI jobs race, exactly one push lands; the other
is told, rolls its local refs back, and re-plans against what won.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitassist.errors import Conflict, RemoteError
from gitassist.refs import RefUpdate

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Sequence

    from gitassist.store import Store

REFSPECS = ("refs/assistants/*:refs/assistants/*", "refs/gitassist/*:refs/gitassist/*")


@dataclass(frozen=True)
class FetchResult:
    remote: str
    updated: list[str]


def _run(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    return store.git(*args, check=False)


def remote_refs(store: Store, remote: str) -> dict[str, str]:
    """The remote's gitassist refs (``git ls-remote``)."""
    proc = _run(store, "ls-remote", remote, "refs/assistants/*", "refs/gitassist/*")
    if proc.returncode != 0:
        raise RemoteError(
            f"cannot read remote {remote!r}: {proc.stderr.strip()}",
            hint="check `git remote -v` and your credentials",
        )
    refs = {}
    for line in proc.stdout.splitlines():
        oid, _, name = line.partition("\t")
        if not name.endswith("^{}"):
            refs[name] = oid
    return refs


def fetch(store: Store, remote: str, *, force: bool = False) -> FetchResult:
    """Fetch the remote's gitassist refs into the same names locally (under the write lock, so
    no gitassist write interleaves with git's)."""
    with store.refdb.lock():
        return _fetch(store, remote, force)


def _fetch(store: Store, remote: str, force: bool) -> FetchResult:
    before = store.refdb.listing()
    specs = [("+" if force else "") + spec for spec in REFSPECS]
    proc = _run(store, "fetch", "--no-tags", remote, *specs)
    if proc.returncode != 0:
        text = proc.stderr.strip()
        if "non-fast-forward" in text or "rejected" in text:
            raise Conflict(
                f"local gitassist refs have diverged from {remote}'s: {text.splitlines()[-1]}",
                hint=f"push your local moves first, or take {remote}'s with "
                "`gitassist fetch --force`",
            )
        raise RemoteError(f"git fetch {remote} failed: {text}")
    store.reopen()  # git changed refs behind libgit2's back
    after = store.refdb.listing()
    return FetchResult(remote, sorted(n for n in after if after.get(n) != before.get(n)))


def push(store: Store, remote: str, updates: Sequence[RefUpdate], expected: dict[str, str]) -> None:
    """Push ``updates`` atomically; each ref must still be at ``expected`` on the remote."""
    if not updates:
        return
    args = ["push", "--atomic", "--porcelain", remote]
    for u in updates:
        args.append(f"--force-with-lease={u.name}:{expected.get(u.name, '')}")
    for u in updates:
        args.append(f"{u.new}:{u.name}" if u.new else f":{u.name}")
    proc = _run(store, *args)
    if proc.returncode != 0:
        text = (proc.stdout + proc.stderr).strip()
        if "stale info" in text or "rejected" in text or "fetch first" in text:
            raise Conflict(
                f"{remote} moved while applying (another apply won the race)",
                hint="run apply again: it re-plans against what landed",
            )
        raise RemoteError(f"git push {remote} failed: {text}")


def revert(store: Store, updates: Sequence[RefUpdate], before: dict[str, str | None]) -> None:
    """Undo ``updates`` locally (compare-and-swap back to ``before``)."""
    undo = [RefUpdate(u.name, before.get(u.name), u.new) for u in updates]
    store.refdb.update(undo, "gitassist: roll back refs that lost a push race")
