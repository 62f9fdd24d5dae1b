"""The one-pass ``git log --raw`` diff of a long history gives what the per-commit diffs give."""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import TYPE_CHECKING, Any

from conftest import doc_yaml, git

from gitassist import history, plan, plan_walk, record
from gitassist.index import changed_entries
from gitassist.store import Store

if TYPE_CHECKING:
    import pytest

IDS = [str(uuid.UUID(int=i + 1, version=4)) for i in range(8)]
MORE = [str(uuid.UUID(int=i + 101, version=4)) for i in range(2)]


def history_repo(make_repo: Any) -> Any:
    """Creates, edits, renames, format-only changes, deletions, a non-document, a nested file,
    a merge and an ``assistants_dir`` move by gitassist.yaml."""
    repo = make_repo({f"assistants/a{i}.yaml": doc_yaml(IDS[i], name=f"a{i}") for i in range(4)})
    repo.commit({"assistants/a0.yaml": doc_yaml(IDS[0], name="edited")})
    repo.commit({"assistants/a1.yaml": None, "assistants/b1.yaml": doc_yaml(IDS[1], name="a1")})
    repo.commit({"assistants/a2.yaml": doc_yaml(IDS[2], name="a2") + "# just a comment\n"})
    repo.commit({"assistants/notes.txt": "x", "assistants/sub/n.yaml": doc_yaml(IDS[5])})
    repo.commit({"README.md": "unrelated"})
    repo.commit({"assistants/a3.yaml": None})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({"assistants/s.yaml": doc_yaml(IDS[6], name="side")})
    repo.git("checkout", "-q", "main")
    repo.commit({"assistants/a4.yaml": doc_yaml(IDS[4], name="a4")})
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    moved = {f"bots/{p.name}": p.read_text() for p in (repo.path / "assistants").glob("*.yaml")}
    moved.update({f"assistants/{n}": None for n in ("a0.yaml", "b1.yaml", "a2.yaml")})
    moved.update({"assistants/a4.yaml": None, "assistants/s.yaml": None})
    repo.commit({**moved, "gitassist.yaml": "assistants_dir: bots\n"})
    repo.commit({"bots/a0.yaml": doc_yaml(IDS[0], name="in bots")})
    repo.commit({"bots/a7.yaml": doc_yaml(IDS[7], name="a7")})
    return repo


def test_one_pass_matches_the_per_commit_diffs(make_repo: Any) -> None:
    repo = history_repo(make_repo)
    store = Store(repo.path)
    head = store.get_commit(repo.git("rev-parse", "HEAD"))
    commits = plan_walk.first_parent_range(store, head, None)
    fast = history.first_parent_changes(store, str(head.id), None)
    assert set(fast) == {str(c.id) for c in commits}
    parent = None
    deferred = 0
    for commit in commits:
        found = fast[str(commit.id)]
        slow = changed_entries(store, parent, commit.tree)
        if found is None:  # gitassist.yaml changed: left to the per-commit diff
            deferred += 1
        else:
            assert found == slow, commit.message
        parent = commit.tree
    assert deferred == 1
    ids = [str(c.id) for c in commits]
    for parts in (2, 3, len(ids)):  # several git log processes, one segment each
        bounds = history.segments(ids, parts)
        assert len(bounds) == parts - 1
        assert history.first_parent_changes(store, str(head.id), None, None, bounds) == fast
    # a range after a stop commit: only the commits after it
    stop = str(commits[5].id)
    after = history.first_parent_changes(store, str(head.id), stop)
    assert set(after) == {str(c.id) for c in commits[6:]}


def test_a_long_plan_is_the_same_with_and_without_the_one_pass_diff(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = history_repo(make_repo)
    calls: list[int] = []
    real = history.first_parent_changes

    def counting(*args: Any) -> Any:
        found = real(*args)
        calls.append(len(found))
        return found

    monkeypatch.setattr(plan, "first_parent_changes", counting)
    slow = plan.make_plan(Store(repo.path))
    assert calls == []  # a short walk diffs per commit
    monkeypatch.setattr(plan, "MIN_COMMITS", 2)
    fast = plan.make_plan(Store(repo.path))
    assert calls == [fast.commits_walked]
    assert fast.versions == slow.versions and fast.versions
    assert fast.notes == slow.notes
    assert dict(fast.index.items()) == dict(slow.index.items())
    assert fast.moves == slow.moves and fast.absent == slow.absent


def test_git_failing_falls_back_to_the_per_commit_diffs(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = history_repo(make_repo)
    store = Store(repo.path)
    head = repo.git("rev-parse", "HEAD")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert history.first_parent_changes(store, head, None) == {}
    monkeypatch.undo()
    assert history.first_parent_changes(store, "0" * 40, None) == {}


def long_history(make_repo: Any) -> Any:
    """:func:`history_repo`, then invalid documents (bad YAML, a schema error) that are fixed
    later, a blob that comes back byte for byte, and a version made in the moved directory."""
    repo = history_repo(make_repo)
    repo.commit({"bots/bad.yaml": "assistant_id: [unclosed\n"})
    repo.commit({"bots/a0.yaml": doc_yaml(IDS[0], name="in bots", graph_id="")})
    repo.commit({"bots/bad.yaml": doc_yaml(IDS[3], name="fixed")})
    repo.commit({"bots/a0.yaml": doc_yaml(IDS[0], name="in bots")})  # the same blob again
    repo.commit({"bots/deep/x/a7.yaml": doc_yaml(IDS[7], name="a7"), "bots/a7.yaml": None})
    repo.commit({"bots/deep/x/a7.yaml": doc_yaml(IDS[7], name="a7 again")})
    a2 = doc_yaml(IDS[2], name="a2")
    repo.commit({"bots/a2.yaml": None, "bots/two.yaml": a2})  # a rename
    repo.commit({"bots/two.yaml": a2 + "# format only\n"})
    repo.commit({"bots/b1.yaml": None})  # removed ...
    repo.commit({"bots/b1.yaml": doc_yaml(IDS[1], name="a1")})  # ... and back unchanged
    repo.git("checkout", "-q", "-b", "side2")
    repo.commit({"bots/m.yaml": doc_yaml(MORE[0], name="merged in")})
    repo.git("checkout", "-q", "main")
    repo.commit({"bots/deep/y.yaml": doc_yaml(MORE[1], name="y")})
    repo.git("merge", "-q", "--no-ff", "-m", "merge side2", "side2")
    for i in range(4):
        repo.commit({"bots/deep/y.yaml": doc_yaml(MORE[1], name=f"y{i}")})
    return repo


def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every object apply writes is the same in two runs: same content, same id."""
    import pygit2

    def signature(self: Store) -> pygit2.Signature:
        return pygit2.Signature(self.identity.name, self.identity.email, 1_700_000_000, 0)

    monkeypatch.setattr(Store, "signature", signature)


def slow_then_forced(make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """A long history applied on the per-commit path in process (fixed clock), an untouched
    copy of it, and every fast-path threshold then set to its minimum (one ``git log`` in
    segments, worker parses, worker tags, the pack) for the caller's apply of the copy:
    ``(repo, copy, slow result)``."""
    import shutil

    from gitassist.apply import apply

    repo = long_history(make_repo)
    copy = tmp_path / "copy"
    shutil.copytree(repo.path, copy)
    _fixed_time(monkeypatch)
    monkeypatch.setattr(plan, "MIN_COMMITS", 10_000)  # the per-commit diff, parsed in process
    slow = apply(Store(repo.path))
    monkeypatch.setattr(plan, "MIN_COMMITS", 2)
    monkeypatch.setattr(plan, "PARALLEL_COMMITS", 2)
    monkeypatch.setattr(record, "PACK_MIN", 1)  # the tags go into one pack ...
    monkeypatch.setattr(record, "PARALLEL_TAGS", 1)  # ... made by worker processes
    return repo, copy, slow


def test_a_first_apply_records_the_same_refs_on_the_fast_path(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from gitassist.apply import apply

    repo, copy, slow = slow_then_forced(make_repo, monkeypatch, tmp_path)
    pools: list[object] = []
    real_pool = history.worker_pool

    def spy() -> Any:
        pool = real_pool()
        pools.append(pool)
        return pool

    monkeypatch.setattr(history, "worker_pool", spy)
    splits: list[int] = []
    real_changes = history.first_parent_changes

    def changes(*args: Any) -> Any:
        splits.append(len(args[4]))
        return real_changes(*args)

    monkeypatch.setattr(plan, "first_parent_changes", changes)
    monkeypatch.setattr(plan, "parallel", lambda: 3)  # three git log processes
    monkeypatch.setattr(history, "BATCH", 2)  # several worker tasks
    fast = apply(Store(copy))
    assert len(pools) == 2 and None not in pools  # workers parsed the blobs, made the tags
    assert splits == [2]
    assert fast.plan.versions == slow.plan.versions and len(slow.plan.versions) > 10
    assert fast.plan.moves == slow.plan.moves
    assert fast.plan.notes == slow.plan.notes
    assert any(n.kind == "invalid_skipped" for n in slow.plan.notes)
    assert {n.kind for n in slow.plan.notes} >= {
        "renamed",
        "format_only",
        "removed",
        "readded_unchanged",
    }

    def refs(path: Any) -> str:
        return git(path, "for-each-ref", "--format=%(objectname) %(refname)")

    assert refs(copy) == refs(repo.path)  # same ids: tags, pointers, apply record, shards
    assert "refs/gitassist/applied" in refs(copy)
    packs = list((copy / ".git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1  # the tags' pack (the test repository had none before)
    index = packs[0].with_suffix(".idx")
    in_pack = subprocess.run(
        ["git", "show-index"], input=index.read_bytes(), capture_output=True, check=True
    ).stdout.decode()
    tags = [line.split()[0] for line in refs(copy).splitlines() if "/v" in line.split()[1]]
    assert tags and all(t in in_pack for t in tags)
    git(copy, "fsck", "--no-dangling", "--strict")  # every object well formed and present


def test_a_plan_parses_each_distinct_blob_once_and_recording_parses_none(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitassist import store as store_module
    from gitassist.record import execute

    repo = long_history(make_repo)
    blobs = set(
        git(
            repo.path, "log", "--format=", "--raw", "--no-abbrev", "--", "assistants", "bots"
        ).split()
    )
    parsed: list[str] = []
    real = store_module.check_document

    def counting(text: str, path: str, rev: str | None = None) -> Any:
        parsed.append(text)
        return real(text, path, rev)

    monkeypatch.setattr(store_module, "check_document", counting)
    for min_commits in (10_000, 2):  # per-commit diffs; one git log (parsed in process)
        monkeypatch.setattr(plan, "MIN_COMMITS", min_commits)
        parsed.clear()
        store = Store(repo.path)
        made = plan.make_plan(store)
        assert len(parsed) == len(set(parsed))  # no document parsed twice
        assert len(parsed) <= len(blobs)
        assert made.versions
    parsed.clear()
    execute(store, made)
    assert parsed == []


def _die(*_args: Any) -> Any:
    os._exit(3)  # a worker killed mid-task (out of memory, a signal)


def test_workers_that_die_cost_only_their_share(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from gitassist.apply import apply

    repo, copy, slow = slow_then_forced(make_repo, monkeypatch, tmp_path)
    monkeypatch.setattr(history, "_facts_task", _die)  # the forked workers run these
    monkeypatch.setattr(record, "_tag_task", _die)
    fast = apply(Store(copy))
    assert fast.plan.versions == slow.plan.versions
    refs = "--format=%(objectname) %(refname)"
    assert git(copy, "for-each-ref", refs) == git(repo.path, "for-each-ref", refs)


KILLED = """
import pathlib, sys, time
from gitassist import history, plan
from gitassist.apply import apply
from gitassist.store import Store
plan.MIN_COMMITS = plan.PARALLEL_COMMITS = 2
def stuck(*args):
    pathlib.Path(sys.argv[2]).write_text("working")
    time.sleep(120)
history._facts_task = stuck
apply(Store(sys.argv[1]))
"""


def test_the_workers_of_a_killed_apply_die_with_it(make_repo: Any, tmp_path: Any) -> None:
    """A forked worker holds a copy of the write lock's descriptor: it must not keep the
    repository locked after the apply that forked it was killed."""
    import fcntl
    import signal
    import sys
    import time

    from gitassist.apply import apply

    repo = long_history(make_repo)
    script, marker = tmp_path / "killed.py", tmp_path / "working"
    script.write_text(KILLED)
    proc = subprocess.Popen([sys.executable, str(script), str(repo.path), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "no worker ran"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fd = os.open(repo.path / ".git" / "gitassist" / "lock", os.O_RDWR)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                assert time.monotonic() < deadline, "a worker still holds the lock"
                time.sleep(0.05)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    assert apply(Store(repo.path)).plan.versions  # and the next apply records everything
