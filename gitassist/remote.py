"""Sharing gitassist's refs with a git remote: fetch them through a quarantine, push them by
the rules that keep records immutable.

Refs travel as ordinary git refs (``refs/assistants/*``, ``refs/gitassist/*``), so any git
host stores them. Nothing on a remote is trusted (see docs/refs.md, "Sharing the refs"):

* ``fetch`` brings the remote's refs into ``refs/gitassist/quarantine/<remote>/``, validates
  each one (its name, its JSON, tag <-> ref agreement, that the commit holds the document,
  contiguous numbering), merges them with the local refs, and moves the accepted ones in one
  compare-and-swap transaction. Refused refs are returned with the reason; the quarantine is
  removed afterwards, whatever happened. Two records of one version number for the same
  commit and content are the same version: the remote's is taken (the local one stays in the
  reflog); another commit or content under one number is a conflict.
* ``push`` creates version refs that the remote lacks and never moves one; a latest pointer
  or the apply record moves only forward (the remote's value is an ancestor of ours). The push
  is ``git push --atomic`` with a lease on every ref at the value read from the remote, so of
  two racing CI jobs exactly one lands; the other rolls back its local refs and re-plans.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import subprocess
from typing import TYPE_CHECKING

import pygit2

from gitassist.errors import BadRef, Conflict, RemoteError
from gitassist.ref_merge import FetchResult, Merge, RefsRefused, RefusedRef, descends, same_record
from gitassist.refs import RefUpdate
from gitassist.versions import latest_from_pointer, parse_ref, record_from_tag

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitassist.store import Store

QUARANTINE = "refs/gitassist/quarantine"
OURS = ("refs/assistants/", "refs/gitassist/")
EXPLICIT_LIMIT = 64  # more refs to fetch than this: fetch by glob


def _run(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    return store.git(*args, check=False)


def remote_refs(store: Store, remote: str) -> dict[str, str]:
    """The remote's gitassist refs (``git ls-remote``)."""
    proc = _run(store, "ls-remote", remote, "refs/assistants/*", "refs/gitassist/*")
    if proc.returncode != 0:
        raise RemoteError(
            f"cannot read remote {remote!r}: {_last_line(proc.stderr)}",
            hint="check `git remote -v` and your credentials",
        )
    refs = {}
    for line in proc.stdout.splitlines():
        oid, _, name = line.partition("\t")
        if not name.endswith("^{}") and not name.startswith(QUARANTINE + "/"):
            refs[name] = oid
    return refs


def _last_line(text: str) -> str:
    """git's own reason: its first ``fatal:``/``error:`` line (the advice after it is not)."""
    lines = text.strip().splitlines()
    said = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return said[0] if said else lines[-1] if lines else "(no output)"


_REFUSALS = ("declined", "denied", "deny", "protected")
_RACES = ("stale info", "fetch first", "cannot lock ref", "but expected")


def _remote_says(text: str) -> str | None:
    """What the remote's hook printed (``remote: …`` lines), as the hint."""
    said = [line[7:].strip() for line in text.splitlines() if line.startswith("remote:")]
    said = [line for line in said if line]
    return "the remote says: " + " / ".join(said[:3]) if said else None


def quarantine_prefix(remote: str) -> str:
    """Where ``fetch`` puts ``remote``'s refs before they are validated."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}", remote):
        return f"{QUARANTINE}/{remote}"
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", remote).strip("-")[-40:] or "remote"
    return f"{QUARANTINE}/{safe}-{hashlib.sha1(remote.encode()).hexdigest()[:10]}"


def _list(store: Store, prefix: str) -> list[tuple[str, str]]:
    proc = store.git("for-each-ref", "--format=%(objectname) %(refname)", prefix + "/")
    return [
        (oid, name) for oid, _, name in (line.partition(" ") for line in proc.stdout.splitlines())
    ]


def _git_input(store: Store, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=store.root, input=text, capture_output=True, text=True, check=False
    )


def _drop(store: Store, prefix: str) -> None:
    """Delete the quarantine refs (loose files git fetch wrote, any that were packed since)
    and their empty directories."""
    gitdir = store.refdb.gitdir
    for base in (gitdir / prefix, gitdir / "logs" / prefix):
        shutil.rmtree(base, ignore_errors=True)
    left = [name for _, name in _list(store, prefix)]
    if left:
        _git_input(store, "".join(f"delete {n}\n" for n in left), "update-ref", "--stdin")
    for base in (gitdir / QUARANTINE, gitdir / "logs" / QUARANTINE):
        for path in (base, *base.parents):
            if path in (gitdir / "refs", gitdir / "logs" / "refs"):
                break
            with contextlib.suppress(OSError):
                path.rmdir()


def _snapshot(store: Store) -> dict[str, str]:
    """Our gitassist refs, leaving out the quarantine."""
    return {n: o for n, o in store.refdb.listing().items() if not n.startswith(QUARANTINE + "/")}


# --------------------------------------------------------------------------- fetch


def fetch(store: Store, remote: str, *, force: bool = False) -> FetchResult:
    """Fetch, validate and merge the remote's gitassist refs (under the write lock, so no
    gitassist write interleaves). ``force`` takes the remote's valid refs where they differ.

    Only the refs that differ from ours are fetched (``git ls-remote`` first), so a fetch with
    nothing new costs one round trip whatever the number of refs."""
    with store.refdb.lock():
        theirs = remote_refs(store, remote)
        local = _snapshot(store)
        merge = Merge(store, remote, force, local, theirs)
        wanted = []
        for name, oid in sorted(theirs.items()):
            if local.get(name) == oid:
                continue
            if parse_ref(name) is None:
                merge.refuse(
                    name,
                    oid,
                    "not a gitassist ref name (refs/assistants/<uuid>/latest, "
                    "refs/assistants/<uuid>/versions/<n>, refs/assistants/<uuid>/env/<name>, "
                    "refs/gitassist/applied)",
                )
            else:
                wanted.append(name)
        prefix = quarantine_prefix(remote)
        _drop(store, prefix)  # what a killed fetch left
        if not wanted:
            return merge.run({})
        try:
            if len(wanted) <= EXPLICIT_LIMIT:
                specs = "".join(f"+{n}:{prefix}/{n.removeprefix('refs/')}\n" for n in wanted)
            else:  # git matches explicit refspecs one by one: globs are faster for many
                specs = "".join(f"+{p}*:{prefix}/{p.removeprefix('refs/')}*\n" for p in OURS)
            proc = _git_input(
                store,
                specs,
                "fetch",
                "--no-tags",
                "--no-write-fetch-head",
                "--no-auto-gc",
                "--stdin",
                remote,
            )
            if proc.returncode != 0:
                raise RemoteError(f"git fetch {remote} failed: {_last_line(proc.stderr)}")
            store.reopen()
            incoming = {}
            for oid, name in _list(store, prefix):
                target = "refs/" + name[len(prefix) + 1 :]
                if target not in merge.refused_names and not target.startswith(QUARANTINE + "/"):
                    incoming[target] = oid
            return merge.run(incoming)
        finally:
            _drop(store, prefix)
            store.reopen()


# --------------------------------------------------------------------------- push


def _same_version(store: Store, theirs: str, mine: str, name: str) -> bool:
    parsed = parse_ref(name)
    if parsed is None or theirs not in store.repo:
        return False
    try:
        a = record_from_tag(store, theirs, name, assistant_id=parsed[1], number=parsed[2])
        b = record_from_tag(store, mine, name, assistant_id=parsed[1], number=parsed[2])
    except BadRef:
        return False
    return same_record(a, b)


def _invalid(store: Store, name: str, oid: str, parsed: tuple[str, str, int]) -> str | None:
    """Why a local ref must not be sent (a ref gitassist did not write), or None."""
    from gitassist.versions import applied_fields

    kind, assistant_id, number = parsed
    try:
        if kind == "version":
            record_from_tag(store, oid, name, assistant_id=assistant_id, number=number)
        elif kind == "latest":
            latest_from_pointer(store, oid, name, assistant_id=assistant_id)
        elif kind == "env":
            return None  # checked with the remote's value: see plan_push
        else:
            commit = store.repo.get(oid)
            if not isinstance(commit, pygit2.Commit):
                return f"{oid[:12]} is not an apply-record commit"
            applied_fields(commit)
    except BadRef as exc:
        return exc.message.removeprefix(f"{name}: ")
    return None


def _env_push_problem(store: Store, name: str, oid: str, have: str | None) -> str | None:
    from gitassist.environments import push_problem

    return push_problem(store, name, oid, have)


def plan_push(store: Store, remote: str, theirs: dict[str, str]) -> list[RefUpdate]:
    """What to send so the remote holds our refs, by the rules (docs/refs.md): a version ref
    only if the remote lacks it; a pointer or the apply record only as a fast-forward of the
    remote's. :class:`RefsRefused` lists every ref that would break a rule."""
    repo = store.repo
    updates: list[RefUpdate] = []
    refused: list[RefusedRef] = []
    for name, oid in sorted(_snapshot(store).items()):
        have = theirs.get(name)
        parsed = parse_ref(name)
        if have == oid or parsed is None:
            continue
        problem = _invalid(store, name, oid, parsed)
        if parsed[0] == "env":
            problem = _env_push_problem(store, name, oid, have)
        if problem:
            refused.append(RefusedRef(name, oid, problem))
        elif have is None:
            updates.append(RefUpdate(name, oid, None))
        elif parsed[0] == "version":
            if not _same_version(store, have, oid, name):
                refused.append(
                    RefusedRef(
                        name,
                        oid,
                        f"{remote} has another record of this version ({have[:12]}); "
                        "version refs are created once and never replaced",
                    )
                )
        elif have not in repo:
            refused.append(
                RefusedRef(name, oid, f"{remote} has {have[:12]}, which this repository lacks")
            )
        elif descends(repo, oid, have):
            updates.append(RefUpdate(name, oid, have))
        elif not descends(repo, have, oid):  # theirs ahead of ours: nothing to send
            refused.append(
                RefusedRef(
                    name,
                    oid,
                    f"not a fast-forward of {remote}'s {have[:12]}: the histories diverged",
                )
            )
    if refused:
        raise RefsRefused(
            f"refusing to push {len(refused)} ref(s): {remote}'s records would be moved or "
            "replaced; nothing pushed",
            refused,
            hint=f"run `gitassist fetch {remote}` first: it takes {remote}'s records where they "
            "are the same versions and explains any real conflict",
        )
    return updates


def push_all(store: Store, remote: str) -> list[str]:
    """Push every local gitassist ref the remote lacks or is behind on; the names pushed."""
    theirs = remote_refs(store, remote)
    updates = plan_push(store, remote, theirs)
    push(store, remote, updates, theirs)
    return [u.name for u in updates]


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
        # a hook or branch protection said no: not a race (an atomic push's other refs then
        # read "atomic transaction failed"; a lost lease reads stale info / cannot lock ref)
        refused = [
            line.rpartition("[remote rejected]")[2].strip()
            for line in text.splitlines()
            if "[remote rejected]" in line and any(w in line for w in _REFUSALS)
        ]
        if refused and not any(w in text for w in _RACES):
            reason = refused[0]
            raise RemoteError(f"{remote} refused the push: {reason}", hint=_remote_says(text))
        if "stale info" in text or "rejected" in text or "fetch first" in text:
            raise Conflict(
                f"{remote} moved while pushing (another apply or push won the race)",
                hint="run it again: apply re-plans against what landed; push after "
                f"`gitassist fetch {remote}`",
            )
        raise RemoteError(f"git push {remote} failed: {_last_line(text)}")


def revert(store: Store, updates: Sequence[RefUpdate], before: dict[str, str | None]) -> None:
    """Undo ``updates`` locally (compare-and-swap back to ``before``)."""
    undo = [RefUpdate(u.name, before.get(u.name), u.new) for u in updates]
    store.refdb.update(undo, "gitassist: roll back refs that lost a push race")
