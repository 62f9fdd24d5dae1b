"""SIGKILL apply at random moments: refs end entirely before or entirely after, never between."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import doc_yaml, git

APPLY = (
    "import sys\nfrom gitassist.store import Store\nfrom gitassist.apply import apply\n"
    "apply(Store(sys.argv[1]))\n"
)


def ref_state(path) -> dict[str, str]:
    """Ref name -> peeled commit (tag and pointer object ids differ run to run)."""
    out = git(path, "for-each-ref", "--format=%(refname) %(*objectname) %(objectname)")
    state = {}
    for line in out.splitlines():
        name, peeled, oid = [*line.split(" "), "", ""][:3]
        if not name.startswith("refs/heads/"):
            state[name] = peeled or oid
    return state


def versions(state: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in state.items() if "/versions/" in k}


@pytest.mark.slow
def test_sigkill_during_apply_is_all_or_nothing(make_repo, tmp_path):
    ids = [str(uuid.uuid4()) for _ in range(40)]
    repo = make_repo({f"assistants/a{i:02}.yaml": doc_yaml(x, f"A{i}") for i, x in enumerate(ids)})
    for k in range(4):
        repo.commit(
            {f"assistants/a{i:02}.yaml": doc_yaml(x, f"A{i}-{k}") for i, x in enumerate(ids)}
        )
    script = tmp_path / "apply.py"
    script.write_text(APPLY)
    assert not versions(ref_state(repo.path))
    # the complete result, once, to compare against
    done = tmp_path / "done"
    shutil.copytree(repo.path, done)
    start = time.monotonic()
    subprocess.run([sys.executable, str(script), str(done)], check=True)
    duration = time.monotonic() - start
    after = versions(ref_state(done))
    assert len(after) == 40 * 5

    rng = random.Random(1234)
    outcomes = {"before": 0, "after": 0}
    for attempt in range(12):
        work = tmp_path / f"kill{attempt}"
        shutil.copytree(repo.path, work)
        proc = subprocess.Popen(
            [sys.executable, str(script), str(work)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, duration * 1.1))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = versions(ref_state(work))
        assert state in ({}, after), f"partial refs after kill #{attempt}: {len(state)} refs"
        outcomes["after" if state else "before"] += 1
        fsck = subprocess.run(
            ["git", "fsck", "--no-dangling"], cwd=work, capture_output=True, text=True, check=False
        )
        assert fsck.returncode == 0, fsck.stderr
        # a fresh apply completes the job (and cleans up any lock the kill left)
        subprocess.run([sys.executable, str(script), str(work)], check=True)
        assert versions(ref_state(work)) == after
        assert not (work / ".git" / "packed-refs.lock").exists()
        shutil.rmtree(work)
    print("outcomes", outcomes, "duration", round(duration, 2))
    assert outcomes["before"] and outcomes["after"], outcomes


INTERRUPTED_UPDATE = """
import os, sys
from gitassist import get_sync_client
limit = int(sys.argv[3])
real = os.rename
count = [0]
def rename(a, b):
    real(a, b)
    count[0] += 1
    if count[0] >= limit:
        os._exit(9)  # as if killed right after this ref landed
os.rename = rename
client = get_sync_client(repo=sys.argv[1])
client.assistants.update(sys.argv[2], context={"model_name": "openai", "system_prompt": "new"})
"""


@pytest.mark.parametrize("kill_after", [1, 2, 3, 4, 5])
def test_interrupted_write_is_completed_by_apply(make_repo, tmp_path, kill_after):
    """A create/update on the tracked branch moves a few loose refs in order (branch, version,
    latest, apply record); killed after any of them, the next apply completes the job without
    numbering a commit twice."""
    from gitassist.apply import apply, plan_for
    from gitassist.versions import read_latest, read_version

    repo = make_repo()
    aid = repo.client().assistants.create("agent", context={"model_name": "echo"}, name="B")[
        "assistant_id"
    ]
    script = tmp_path / "update.py"
    script.write_text(INTERRUPTED_UPDATE)
    proc = subprocess.run(
        [sys.executable, str(script), str(repo.path), aid, str(kill_after)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 9), proc.stderr
    apply(repo.store())
    store = repo.store()
    state = read_latest(store, aid)
    assert state is not None
    commits = [read_version(store, aid, n).commit for n in range(1, state.max_version + 1)]
    assert len(set(commits)) == len(commits)  # no commit numbered twice
    assert read_version(store, aid, state.max_version + 1) is None
    head = repo.git("rev-parse", "HEAD")
    if head != commits[0]:  # the branch moved: the update must be version 2 and active
        assert commits == [commits[0], head] and state.version == 2
    assert not plan_for(store).versions
    assert repo.git("fsck", "--no-dangling") == ""
    assert not list((repo.path / ".git").rglob("*.lock"))
