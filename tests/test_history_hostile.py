"""Hostile review of the history workers: Ctrl-C or SIGTERM during a first apply that forked
them leaves the repository as it was, the lock free and no process behind; an apply from a
thread gives the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from conftest import git
from test_history import long_history, slow_then_forced

from gitassist import history, plan, record
from gitassist.store import Store

SLOW = """
import pathlib, sys, time
from gitassist import history, plan, record
plan.MIN_COMMITS = plan.PARALLEL_COMMITS = 2
history.BATCH = 1
record.PACK_MIN = record.PARALLEL_TAGS = 1
module, name = (history, "_facts_task") if sys.argv[3] == "facts" else (record, "_tag_task")
real = getattr(module, name)
def slow(*args):
    pathlib.Path(sys.argv[2]).write_text("working")
    time.sleep(0.5)
    return real(*args)
setattr(module, name, slow)
from gitassist.cli.main import main
import os
os.chdir(sys.argv[1])
main(["apply"])
"""


def _ours(script: str) -> list[int]:
    """Processes still running whose command line names ``script``."""
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if script.encode() in cmd and state != "Z":
            out.append(int(pid))
    return out


def _refs(path: Any) -> str:
    return git(path, "for-each-ref", "--format=%(objectname) %(refname)")


@pytest.mark.skipif(not sys.platform.startswith("linux") or history.cores() < 2, reason="fork")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase", ["facts", "tags"])
def test_an_apply_interrupted_while_its_workers_run_changes_nothing(
    make_repo: Any, tmp_path: Any, sig: int, phase: str
) -> None:
    import fcntl

    repo = long_history(make_repo)
    before = _refs(repo.path)
    script, marker = tmp_path / "slow_apply.py", tmp_path / "working"
    script.write_text(SLOW)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(repo.path), str(marker), phase],
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C sees it
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate()
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C: the whole foreground group
    else:
        proc.send_signal(sig)  # kill(1): the apply alone
    _out, err = proc.communicate(timeout=60)
    expected = 130 if sig == signal.SIGINT else -signal.SIGTERM
    assert proc.returncode == expected, err.decode()
    deadline = time.monotonic() + 10
    while _ours(str(script)):
        assert time.monotonic() < deadline, "a worker outlived the apply"
        time.sleep(0.05)
    assert _refs(repo.path) == before
    fd = os.open(repo.path / ".git" / "gitassist" / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free
    finally:
        os.close(fd)
    assert repo.git("status", "--porcelain") == ""
    from gitassist.apply import apply

    assert apply(Store(repo.path)).plan.versions  # the next apply records everything


def test_an_apply_from_a_thread_records_what_the_main_thread_does(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from gitassist.apply import apply

    repo, copy, slow = slow_then_forced(make_repo, monkeypatch, tmp_path)
    pools: list[Any] = []
    real_pool = history.worker_pool
    monkeypatch.setattr(history, "worker_pool", lambda: pools.append(real_pool()) or pools[-1])
    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(apply(Store(copy))))
    thread.start()
    thread.join(120)
    assert found and pools and all(p is None for p in pools)  # no fork from a threaded process
    assert found[0].plan.versions == slow.plan.versions
    assert _refs(copy) == _refs(repo.path)


def test_one_pass_matches_the_per_commit_diffs_on_odd_entries(make_repo: Any) -> None:
    """Mode changes, a symlink and a submodule-like entry, a file turned into a symlink and
    back, and paths with spaces, quotes, a newline, non-ASCII and tabs."""
    from conftest import doc_yaml
    from test_history import IDS

    from gitassist import plan_walk
    from gitassist.index import changed_entries

    repo = make_repo({"assistants/a.yaml": doc_yaml(IDS[0], name="a")})
    odd = ["assistants/sp ace.yaml", 'assistants/q"uote.yaml', "assistants/é/ü.yml"]
    odd += ["assistants/new\nline.yaml", "assistants/t\tab.yaml"]
    repo.commit({p: doc_yaml(IDS[i + 1], name=f"o{i}") for i, p in enumerate(odd)})
    path = repo.path / "assistants/a.yaml"
    path.chmod(0o755)
    repo.commit({})  # a mode change only
    path.unlink()
    path.symlink_to("sp ace.yaml")
    repo.commit({})  # a document turned into a symlink
    path.unlink()
    path.write_text(doc_yaml(IDS[0], name="a"))
    repo.commit({})  # ... and back
    blob = repo.git("rev-parse", "HEAD:assistants/a.yaml")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{blob},assistants/sub.yaml")
    repo.git("commit", "-q", "-m", "a gitlink")
    repo.commit({odd[0]: None, odd[3]: doc_yaml(IDS[4], name="changed")})
    store = Store(repo.path)
    head = store.get_commit(repo.git("rev-parse", "HEAD"))
    commits = plan_walk.first_parent_range(store, head, None)
    fast = history.first_parent_changes(store, str(head.id), None)
    assert set(fast) == {str(c.id) for c in commits}
    parent = None
    for commit in commits:
        found = fast[str(commit.id)]
        assert found is not None
        slow = changed_entries(store, parent, commit.tree)
        key = repr
        assert [sorted(map(key, side)) for side in found] == [sorted(map(key, s)) for s in slow]
        parent = commit.tree


def test_a_worker_killed_mid_walk_costs_only_its_share(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A worker killed (out of memory, SIGKILL) while blobs are still being handed out: the
    pool is broken, and the next hand-out must not raise (exit 70) but parse in process."""
    from test_history import _die

    from gitassist.apply import apply

    repo, copy, slow = slow_then_forced(make_repo, monkeypatch, tmp_path)
    monkeypatch.setattr(history, "BATCH", 1)  # a hand-out per blob, long after the death
    monkeypatch.setattr(history, "_facts_task", _die)
    monkeypatch.setattr(record, "_tag_task", _die)
    real_read = os.read

    def slow_read(fd: int, n: int) -> bytes:  # git's output arrives in small pieces
        time.sleep(0.01)
        return real_read(fd, min(n, 256))

    monkeypatch.setattr(os, "read", slow_read)
    fast = apply(Store(copy))
    assert fast.plan.versions == slow.plan.versions
    assert _refs(copy) == _refs(repo.path)


@pytest.mark.parametrize("where", ["pool", "fork"])
def test_no_semaphores_or_a_failed_fork_means_parsing_in_process(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, where: str
) -> None:
    """A container without /dev/shm cannot make the pool's semaphores (OSError); a fork can
    fail (EAGAIN, ENOMEM): the apply goes on in process instead of failing with exit 70."""
    import concurrent.futures
    import errno

    from gitassist.apply import apply

    repo, copy, slow = slow_then_forced(make_repo, monkeypatch, tmp_path)
    monkeypatch.setattr(history, "parallel", lambda: 2)
    monkeypatch.setattr(plan, "parallel", lambda: 2)

    def refuse(*_args: Any, **_kw: Any) -> Any:
        raise OSError(errno.ENOSYS if where == "pool" else errno.EAGAIN, "refused")

    if where == "pool":
        monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "__init__", refuse)
    else:
        monkeypatch.setattr(os, "fork", refuse)
    fast = apply(Store(copy))
    assert fast.plan.versions == slow.plan.versions
    assert _refs(copy) == _refs(repo.path)
